"""Email specifics: the MIME message, header injection, recipients, login, TLS modes."""

from __future__ import annotations

import email
import email.policy
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from service.errors import PermanentSinkError
from service.sinks.email import EmailSender
from sink_contract import (  # noqa: F401 - fixtures
    SMTP_PASSWORD,
    SMTP_USER,
    SmtpRecorder,
    http,
    outgoing,
    send_expecting,
    sink_config,
    smtp,
    smtp_controller,
    smtp_server,
)

MESSAGE = {"subject": "Fatura paga: José", "text": "Olá, texto", "html": "<p>Olá <b>!</b></p>"}


def sender(port: int, **extra: Any) -> EmailSender:
    """An email sink for the test SMTP server on ``port``."""
    return EmailSender("financeiro", sink_config("email", port, **extra), timeout=2)


def received(recorder: SmtpRecorder, index: int = 0) -> EmailMessage:
    """The ``index``-th message the server accepted, parsed."""
    raw = recorder.messages[index].original_content
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


async def test_multipart_message_arrives_with_headers(
    smtp_server: Any, smtp: SmtpRecorder
) -> None:
    """Text and HTML arrive as multipart/alternative with From, To, Subject and Ponte's headers."""
    result = await sender(smtp_server[1].port).send(outgoing(message=MESSAGE))
    assert result.status_code == 250 and "Queued as ABC123" in result.response
    msg = received(smtp)
    assert (msg["From"], msg["To"], msg["Subject"]) == (
        "Ponte <ponte@example.com>", "financeiro@example.com", "Fatura paga: José"
    )  # fmt: skip
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and text.get_content().strip() == "Olá, texto"
    assert html is not None and html.get_content().strip() == MESSAGE["html"]
    assert msg["X-Ponte-Delivery"] == "7"
    assert msg["Message-ID"].endswith("@example.com>")
    assert smtp.logins == [SMTP_USER.encode()]


async def test_without_a_message_the_body_is_pretty_printed(
    smtp_server: Any, smtp: SmtpRecorder
) -> None:
    """No template: the subject is the event name and the text the indented JSON body."""
    await sender(smtp_server[1].port).send(outgoing())
    msg = received(smtp)
    assert msg["Subject"] == "myeduzz.invoice_paid"
    assert msg.get_content_type() == "text/plain"
    assert '  "event": "myeduzz.invoice_paid"' in msg.get_content()  # type: ignore[attr-defined]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r", "\u2028", "\r\n\r\n"])
async def test_subject_cannot_add_a_header(
    smtp_server: Any, smtp: SmtpRecorder, newline: str
) -> None:
    """Line breaks in a rendered subject become spaces: no Bcc header, no extra recipient."""
    subject = f"Oi{newline}Bcc: evil@x"
    await sender(smtp_server[1].port).send(outgoing(message={**MESSAGE, "subject": subject}))
    msg = received(smtp)
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Oi Bcc: evil@x"
    assert smtp.messages[0].rcpt_tos == ["financeiro@example.com"]


async def test_every_recipient_receives(smtp_server: Any, smtp: SmtpRecorder) -> None:
    """All addresses in ``to`` are RCPT recipients and listed in the To header."""
    to = ["a@example.com", "Bruno <b@example.com>", "c@example.org"]
    await sender(smtp_server[1].port, to=to).send(outgoing(message=MESSAGE))
    assert smtp.messages[0].rcpt_tos == ["a@example.com", "b@example.com", "c@example.org"]
    assert received(smtp)["To"] == ", ".join(to)


async def test_wrong_password_is_permanent(
    smtp_server: Any, smtp: SmtpRecorder
) -> None:
    """A refused login (535) fails for good and the password is nowhere in the error."""
    sink = sender(smtp_server[1].port, password=SMTP_PASSWORD + "x")
    error = await send_expecting(sink, PermanentSinkError)
    assert error.status_code == 535
    assert SMTP_PASSWORD not in str(error)


# --- TLS ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (needs the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def tls_pair(certificate: tuple[Path, Path]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting only the test certificate)."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(*certificate)
    return server, ssl.create_default_context(cafile=str(certificate[0]))


@pytest.fixture
def tls_server(
    certificate: tuple[Path, Path], request: pytest.FixtureRequest
) -> Iterator[tuple[SmtpRecorder, Controller, ssl.SSLContext]]:
    """An SMTP server in the mode named by the test's ``security`` parameter."""
    server_ctx, client_ctx = tls_pair(certificate)
    recorder = SmtpRecorder()
    if request.param == "tls":
        controller = smtp_controller(recorder, ssl_context=server_ctx)
    else:
        controller = smtp_controller(recorder, tls_context=server_ctx, require_starttls=True)
    yield recorder, controller, client_ctx
    controller.stop()


@pytest.mark.parametrize("tls_server", ["tls", "starttls"], indirect=True)
async def test_tls_modes_deliver(tls_server: Any) -> None:
    """``tls`` connects over TLS, ``starttls`` upgrades; both log in and deliver."""
    recorder, controller, client_ctx = tls_server
    security = "tls" if controller.ssl_context else "starttls"
    cfg = sink_config("email", controller.port, security=security)
    sink = EmailSender("f", cfg, timeout=2, tls_context=client_ctx)
    result = await sink.send(outgoing(message=MESSAGE))
    assert result.status_code == 250
    assert recorder.logins == [SMTP_USER.encode()]


@pytest.mark.parametrize("tls_server", ["starttls"], indirect=True)
async def test_security_none_never_upgrades(tls_server: Any) -> None:
    """``none`` sends no STARTTLS: a server that requires it refuses, for good."""
    _, controller, _ = tls_server
    error = await send_expecting(sender(controller.port), PermanentSinkError)
    assert error.status_code == 530
