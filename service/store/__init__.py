"""The storage seam: the ``Store`` protocol and the records both backends share.

- ``protocol``: the ``Store`` protocol (console queries included); ``open``: ``open_store``.
- ``records``: what goes in and comes out; ``rows``: rows into records and pages.
- ``sqlite/`` and ``postgres/``: the two backends (neither imports the other).
- ``copy``: copies a database from one backend to the other (``ponte copy``).
"""
