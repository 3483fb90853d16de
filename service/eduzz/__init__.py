"""Eduzz: the event catalogue (``catalogue``), its data types (``structs``) and fixtures.

The 63 official example envelopes live in ``fixtures/<event>.json``; ``events.tsv`` gives
each event's product, group and Portuguese title.
"""
