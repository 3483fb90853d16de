"""Typed, lenient Structs for the platforms beside Eduzz (Hotmart, Kiwify), for validation only.

As for Eduzz (``service.eduzz.structs``): every field may be missing or null, unknown keys
are ignored (the raw body keeps them), ids take text or numbers. A value of the wrong type
is recorded on the event as ``schema_error``; an authenticated event is never refused.
"""
