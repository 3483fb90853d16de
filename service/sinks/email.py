"""Email: one message per delivery (text, plus HTML as an alternative), sent over SMTP.

    SMTP 4xx reply, timeout, connection error, disconnect      TransientSinkError
    SMTP 5xx reply, missing extension (STARTTLS, AUTH), bad address or header
                                                               PermanentSinkError

Header values are built with ``email.policy.SMTP`` after every line break and control
character is turned into a space, so a rendered subject can never add a header.
"""

from __future__ import annotations

import email.policy
import json
import re
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib
import structlog

from service.config.schema import EmailConfig
from service.errors import PermanentSinkError, SinkError, TransientSinkError
from service.render.filters import one_line
from service.render.formats import FORMATS
from service.sinks.base import Context, Outgoing, SendResult, SinkKind, excerpt
from service.sinks.http import snippet

log = structlog.get_logger()

FALLBACK_DOMAIN = "ponte.invalid"


def clean_header(value: object) -> str:
    """``value`` as one header line: line breaks and control characters become spaces."""
    return one_line(str(value))


def pretty(body: bytes) -> str:
    """The raw body as indented JSON, or as text when it is not JSON."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body.decode("utf-8", "replace")


def build_message(out: Outgoing, cfg: EmailConfig) -> EmailMessage:
    """The email for one delivery: text/plain, or multipart/alternative when there is HTML."""
    message = out.message
    subject = message.get("subject") if message else None
    text = str(message.get("text") or "") if message else pretty(out.body)
    html = message.get("html") if message else None
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = clean_header(subject or out.event)
    msg["From"] = clean_header(cfg.from_)
    msg["To"] = ", ".join(clean_header(to) for to in cfg.to)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(f"ponte.{out.delivery_id}", domain=sender_domain(cfg))
    msg["X-Ponte-Delivery"] = str(out.delivery_id)
    msg.set_content(text)
    if html:
        msg.add_alternative(str(html), subtype="html")
    return msg


def sender_domain(cfg: EmailConfig) -> str:
    """The domain of the From address: a Message-ID domain that does not change per host."""
    domain = parseaddr(cfg.from_)[1].rpartition("@")[2]
    return domain if re.fullmatch(r"[A-Za-z0-9.-]+", domain) else FALLBACK_DOMAIN


class EmailSender:
    """Sends each delivery to every address in ``cfg.to`` through ``cfg.host``."""

    kind = "email"

    def __init__(
        self,
        name: str,
        cfg: EmailConfig,
        *,
        timeout: float,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.cfg = cfg
        self.timeout = timeout
        self.tls_context = tls_context  # None: the system's trusted CAs
        self.label = f"email sink {name!r}"

    async def send(self, out: Outgoing) -> SendResult:
        """Deliver once; raise TransientSinkError / PermanentSinkError."""
        try:
            errors, reply = await self._send(build_message(out, self.cfg))
        except (aiosmtplib.SMTPException, ValueError, OSError) as exc:
            raise self._error(exc) from None
        if errors:
            codes = sorted({r.code for r in errors.values()})
            log.warning("email_recipients_refused", sink=self.name, count=len(errors), codes=codes)
            reply = f"{reply} ({len(errors)} of {len(self.cfg.to)} recipients refused)"
        return SendResult(status_code=250, response=excerpt(self._snippet(reply)))

    async def close(self) -> None:
        """Nothing to release: each send opens and closes its own connection."""

    async def _send(self, msg: EmailMessage) -> tuple[dict[str, aiosmtplib.SMTPResponse], str]:
        cfg = self.cfg
        return await aiosmtplib.send(
            msg, sender=cfg.from_, recipients=cfg.to, hostname=cfg.host, port=cfg.port,
            username=cfg.username, password=cfg.password, timeout=self.timeout,
            use_tls=cfg.security == "tls", start_tls=cfg.security == "starttls",
            tls_context=self.tls_context,
        )  # fmt: skip

    def _snippet(self, text: str) -> str:
        return snippet(text, [self.cfg.password or ""])

    def _reply_error(self, code: int, message: str, prefix: str = "") -> SinkError:
        kind = TransientSinkError if 400 <= code < 500 else PermanentSinkError
        return kind(f"{self.label}: {prefix}SMTP {code} {self._snippet(message)}", status_code=code)

    def _error(self, exc: Exception) -> SinkError:
        """The SinkError for a failed send; its text holds the SMTP reply, never the password."""
        match exc:
            case aiosmtplib.SMTPRecipientsRefused(recipients=refused):
                worst = min(refused, key=lambda r: r.code)  # a 4xx refusal is worth a retry
                return self._reply_error(worst.code, worst.message, "every recipient refused: ")
            case aiosmtplib.SMTPResponseException(code=code, message=message):
                return self._reply_error(code, message)
            case TimeoutError():
                return TransientSinkError(f"{self.label}: timed out after {self.timeout:g}s")
            case aiosmtplib.SMTPServerDisconnected() | aiosmtplib.SMTPConnectError():
                reason = self._snippet(str(exc))
                return TransientSinkError(f"{self.label}: connection failed: {reason}")
            case aiosmtplib.SMTPException() | ValueError():
                return PermanentSinkError(f"{self.label}: {self._snippet(str(exc))}")
        return TransientSinkError(f"{self.label}: connection failed ({type(exc).__name__})")


def _build(name: str, cfg: EmailConfig, ctx: Context) -> EmailSender:
    return EmailSender(name, cfg, timeout=ctx.timeout)


KIND = SinkKind(EmailConfig, _build, format=FORMATS["email"], digests=True)
