"""Operate: the operator verbs and the admin API, reload, retention, metrics, OpenAPI and the route tester."""
