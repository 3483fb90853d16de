"""Routing: which routes an event matches, and the ``sale.*`` view they read.

Globs, ``sources:``, compiled ``where`` conditions.
"""
