"""What the HTTP sinks share: one POST, status classification, Retry-After, transport errors.

    2xx                  success
    408, 429, 5xx        TransientSinkError (``retry_after`` from Retry-After, at most 24 h)
    410                  SinkGoneError
    3xx (not followed)   PermanentSinkError
    other 1xx/4xx        PermanentSinkError
    timeouts, connection and payload errors   TransientSinkError

Messages name the sink ("slack sink 'vendas': HTTP 503"), never its URL or a configured
header value: a receiver's answer is kept only with every secret masked (``redact``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec

from service.errors import PermanentSinkError, SinkGoneError, TransientSinkError
from service.render.personal import REDACTED

MAX_RETRY_AFTER = 86400.0
"""A receiver's ``Retry-After`` is honoured up to 24 hours: a larger (or endless) one would
leave the delivery neither retried nor dead-lettered."""

BODY_LIMIT = 64 * 1024
SNIPPET = 200
_DELTA = re.compile(r"^\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class Reply:
    """The parts of an HTTP response a sink looks at."""

    status: int
    text: str
    retry_after: str | None = None


async def post(
    http: aiohttp.ClientSession,
    url: str,
    *,
    label: str,
    data: bytes,
    headers: Mapping[str, str],
    timeout: float,
    follow_redirects: bool = False,
    limit: int = BODY_LIMIT,
) -> Reply:
    """POST once and read up to ``limit`` bytes of the answer.

    Transport failures become SinkErrors (see ``transport_errors``)."""
    with transport_errors(label, timeout):
        async with http.post(
            url,
            data=data,
            headers=headers,
            allow_redirects=follow_redirects,
            raise_for_status=False,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as resp:
            text = (await _read(resp, limit)).decode("utf-8", "replace")
            return Reply(resp.status, text, resp.headers.get("Retry-After"))


async def _read(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit and (chunk := await resp.content.read(limit - size)):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def check_status(label: str, reply: Reply, secrets: Iterable[str] = ()) -> None:
    """Return on 2xx; otherwise raise the SinkError the status calls for (see the table above)."""
    status = reply.status
    if 200 <= status < 300:
        return
    text = snippet(reply.text, secrets)
    detail = f"{label}: HTTP {status}" + (f" ({text})" if text else "")
    if status == 410:
        raise SinkGoneError(detail, status_code=status)
    if status in (408, 429) or status >= 500:
        retry_after = parse_retry_after(reply.retry_after)
        raise TransientSinkError(detail, status_code=status, retry_after=retry_after)
    if 300 <= status < 400:
        redirect = f"{label}: HTTP {status}: redirect not followed"
        raise PermanentSinkError(redirect, status_code=status)
    raise PermanentSinkError(detail, status_code=status)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from Retry-After (delta seconds or HTTP-date), from 0 to 24 hours
    (``MAX_RETRY_AFTER``); None if garbage."""
    if not value:
        return None
    if match := _DELTA.match(value):
        return min(float(match[1]), MAX_RETRY_AFTER)  # 400 nines are a float inf
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def snippet(text: str, secrets: Iterable[str] = ()) -> str:
    """A short one-line excerpt of a receiver's answer with every known secret masked."""
    return " ".join(redact(text, secrets).split())[:SNIPPET]


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret replaced by ``[redacted]`` (longest first)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def url_secrets(url: str) -> list[str]:
    """The parts of a URL that may carry a credential: all of it, path+query, password, tokens."""
    parts = urlsplit(url)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    tokens = [t for t in re.split(r"[/?&=;]", tail) if len(t) >= 16]
    return [url, tail if len(tail) > 1 else "", parts.password or "", *tokens]


def header_secrets(headers: Mapping[str, str]) -> list[str]:
    """Configured header values as secrets: each whole value and each long token in it.

    ``Authorization: Bearer <token>`` echoed back as just ``<token>`` is still masked.
    """
    values = [v for v in headers.values() if v.strip()]
    tokens = [t for v in values for t in re.split(r"[\s,;=:]+", v) if len(t) >= 8]
    return [*values, *tokens]


@contextmanager
def transport_errors(label: str, timeout: float) -> Iterator[None]:
    """Turn aiohttp/asyncio failures into SinkErrors whose text holds no URL."""
    try:
        yield
    except TimeoutError:
        raise TransientSinkError(f"{label}: timed out after {timeout:g}s") from None
    except aiohttp.TooManyRedirects:
        raise PermanentSinkError(f"{label}: too many redirects") from None
    except aiohttp.InvalidURL:
        raise PermanentSinkError(f"{label}: invalid URL") from None
    except aiohttp.ClientPayloadError:
        raise TransientSinkError(f"{label}: the response body was cut off") from None
    except aiohttp.ClientConnectorDNSError:
        raise TransientSinkError(f"{label}: DNS lookup failed") from None
    except aiohttp.ClientConnectorCertificateError:
        raise TransientSinkError(f"{label}: TLS certificate not trusted") from None
    except aiohttp.ClientConnectorError as exc:
        raise TransientSinkError(f"{label}: cannot connect ({_os_reason(exc.os_error)})") from None
    except aiohttp.ServerDisconnectedError:
        raise TransientSinkError(f"{label}: the server closed the connection") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise TransientSinkError(f"{label}: connection failed ({type(exc).__name__})") from None


def _os_reason(exc: OSError) -> str:
    return os.strerror(exc.errno) if exc.errno and exc.errno > 0 else type(exc).__name__


def json_object(text: str) -> dict[str, Any]:
    """A provider's JSON answer as a dict; ``{}`` when it is not a JSON object (nor when
    it nests deeper than msgspec decodes: 3,000 levels are an attack, not an answer)."""
    try:
        answer = msgspec.json.decode(text)
    except (msgspec.DecodeError, RecursionError):
        return {}
    return answer if isinstance(answer, dict) else {}
