"""The sinks: one module per type, each ending with its ``KIND`` record (``base.SinkKind``).

``registry`` lists the types and builds sinks; ``base`` is the seam every sink keeps;
``http``, ``chat``, ``graph`` and ``google_auth`` are shared by several types.
"""
