"""Batches: digest rules and groups, reports and their figures, and the scheduler that closes and sends them."""
