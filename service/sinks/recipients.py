"""How a whatsapp sink's ``to`` entry reads: a fixed number, a template, or a bare event path.

Its own module, below the sinks and beside nothing else, because the digest rules ask it
too (a sink writing to each buyer's number cannot take a digest).
"""

from __future__ import annotations

import re

_PATH = re.compile(r"^(?:data|id|event|source)(?:\.[A-Za-z0-9_]+)+$")


def recipient_template(entry: str) -> str:
    """A bare event path (``data.buyer.cellphone``) means ``{{ data.buyer.cellphone }}``."""
    return f"{{{{ {entry} }}}}" if _PATH.match(entry.strip()) else entry
