"""PostgreSQL URLs in messages: who and where, never the password."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def redact(url: str) -> str:
    """The URL with its password replaced by ``***`` (for logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def describe(url: str) -> str:
    """``user@host:port/database``, for error messages."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = parts.port or 5432
    except ValueError:
        return "(malformed URL)"
    user = f"{unquote(parts.username)}@" if parts.username else ""
    return f"{user}{host}:{port}{parts.path or '/'}"


def one_line(exc: BaseException, url: str) -> str:
    """The driver's message on one line, with the URL's password (if any) scrubbed out."""
    text = " ".join(str(exc).split())
    text = text.removeprefix("connection failed: ")
    secret = _password(url)
    for form in {secret, unquote(secret)} if secret else ():
        text = text.replace(form, "***")
    return text or type(exc).__name__


def split_prepare(url: str) -> tuple[str, int | None]:
    """Take Ponte's own ``prepare_threshold`` (``none`` turns prepared statements off) out of the URL.

    libpq does not know it; psycopg takes it as a connection argument (default 5).
    """
    parts = urlsplit(url)
    kept, threshold = [], 5
    for pair in parts.query.split("&") if parts.query else []:
        key, _, value = pair.partition("=")
        if key == "prepare_threshold":
            threshold = -1 if value.lower() in ("none", "off", "0") else int(value)
        else:
            kept.append(pair)
    clean = parts._replace(query="&".join(kept)).geturl()
    return clean, None if threshold == -1 else threshold
