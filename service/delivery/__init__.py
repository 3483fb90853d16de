"""Delivery: the worker that claims, renders, sends and records.

Also per-sink lanes, retry arithmetic, replicas and operational events.
"""
