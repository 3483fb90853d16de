"""Ingest: verify a webhook (sources/), decode its envelope, plan its deliveries and commit them before the 200."""
