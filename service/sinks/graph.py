"""Meta Graph API answers (WhatsApp Cloud API): success, and errors classified by ``code``.

Errors look like ``{"error": {"message", "type", "code", "error_data": {"details"},
"fbtrace_id"}}``; Meta advises to act on ``code``, not on the HTTP status::

    4, 80007, 130429, 131048, 131056   rate limits             TransientSinkError
    1, 2, 131000, 131016, 133004       unknown / service down  TransientSinkError
    190 (or HTTP 401)                  token invalid/revoked   SinkGoneError: the sink is disabled
    100, 131026                        bad parameter / number  PermanentSinkError
    131047                             outside the 24 h window PermanentSinkError (use a template)
    132000-132015                      template problems       PermanentSinkError
    any other code                     by HTTP status (408/429/5xx transient, else permanent)

The provider's message and details are kept (secrets and the number masked).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from service.errors import PermanentSinkError, SinkGoneError, TransientSinkError
from service.sinks.http import Reply, check_status, json_object, parse_retry_after, snippet

RATE_LIMITS = frozenset({4, 80007, 130429, 131048, 131056})
TRANSIENT = frozenset({1, 2, 131000, 131016, 133004})
TEMPLATE = range(132000, 132016)
TOKEN = 190
REVOKED = "the WhatsApp access token was refused (invalid, expired or revoked)"
HINTS = {
    190: "the access token is invalid or expired",
    131026: "the number cannot receive WhatsApp messages",
    131047: "more than 24 hours since the person's last message: use an approved template",
    100: "invalid parameter",
}


def check_graph_reply(label: str, reply: Reply, secrets: Iterable[str] = ()) -> str:
    """The sent message's id on success; otherwise raise the SinkError its code calls for."""
    answer = json_object(reply.text)
    if 200 <= reply.status < 300:
        messages = answer.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            return str(messages[0].get("id", ""))
        raise PermanentSinkError(
            f"{label}: unexpected answer from the Graph API", status_code=reply.status
        )
    error = answer.get("error")
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        check_status(label, reply, secrets)  # not the Graph API's shape: by HTTP status
        raise PermanentSinkError(f"{label}: HTTP {reply.status}", status_code=reply.status)
    raise _classify(label, reply, error, secrets)


def _classify(label: str, reply: Reply, error: dict[str, Any], secrets: Iterable[str]) -> Exception:
    code = int(error["code"])
    text = f"{label}: Graph API error {code}: {describe(error, secrets)}"
    if code in HINTS:
        text += f" [{HINTS[code]}]"
    status = reply.status
    if code in RATE_LIMITS or code in TRANSIENT:
        return TransientSinkError(
            text, status_code=status, retry_after=parse_retry_after(reply.retry_after)
        )
    if code == TOKEN or status == 401:
        return SinkGoneError(text, status_code=status, reason=REVOKED)
    if code in HINTS or code in TEMPLATE:
        return PermanentSinkError(text, status_code=status)
    if status in (408, 429) or status >= 500:
        return TransientSinkError(
            text, status_code=status, retry_after=parse_retry_after(reply.retry_after)
        )
    return PermanentSinkError(text, status_code=status)


def describe(error: dict[str, Any], secrets: Iterable[str]) -> str:
    """A Graph API error's ``message`` (and ``error_data.details``), secrets masked."""
    message = str(error.get("message") or "")
    data = error.get("error_data")
    details = str(data.get("details") or "") if isinstance(data, dict) else ""
    both = f"{message} ({details})" if details and details not in message else message
    return snippet(both, secrets) or "no message"

