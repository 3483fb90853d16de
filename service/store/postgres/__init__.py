"""The PostgreSQL store: the same protocol for several replicas (claims, leases, LISTEN/NOTIFY)."""
