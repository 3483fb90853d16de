"""Ponte: a self-hosted webhook router for Eduzz and friends."""

__version__ = "0.1.0"
