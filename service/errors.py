"""Every exception Ponte raises on purpose, in one tree.

    PonteError
    ├── ConfigError             the config file is invalid (carries every problem found)
    ├── IngestError             a request we refuse; ``status`` is its HTTP status
    │   ├── UnknownSource       404  no source of that name
    │   ├── SignatureError      401  missing or wrong signature
    │   ├── EnvelopeError       400  the body is not a JSON envelope
    │   ├── BodyTooLarge        413  the body is over ``server.max_body_bytes``
    │   ├── SlowBody            408  the body did not arrive within ``server.read_timeout``
    │   └── BodyCut             400  the client hung up (or broke the framing) mid-body
    ├── OperationError          an operator's request (admin API, CLI) that cannot be done
    │   ├── BadRequest          400  malformed or contradictory (the CLI exits 2)
    │   ├── NotFound            404  no event, delivery or sink of that id or name
    │   ├── Conflict            409  valid, but there is nothing it can do now
    │   └── ConsoleBusy         503  a console read ran out of its time budget (narrow it)
    ├── StorageUnavailable      the database cannot take writes (503 on ingest)
    ├── StorageCorrupt          the database file is not a Ponte database
    ├── TemplateError           a template failed to render (a permanent delivery failure)
    └── SinkError               a sink could not deliver
        ├── TransientSinkError  worth retrying (5xx, 429, timeouts, connection errors)
        └── PermanentSinkError  retrying will not help (other 4xx, bad payload)
            └── SinkGoneError   410 Gone, or credentials revoked: the sink gets disabled

Domain errors become HTTP statuses in one place each: ``service.ingest`` for webhooks,
``service.api`` for the admin API (an OperationError's ``status``).
Error messages never contain secrets (URLs with tokens, passwords, signing keys).
"""

from __future__ import annotations


class PonteError(Exception):
    """Base of every error Ponte raises on purpose."""


class ConfigError(PonteError):
    """The configuration is invalid; ``errors`` lists every problem as ``path: message``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class IngestError(PonteError):
    """A webhook request that is refused with ``status``."""

    status = 400


class UnknownSource(IngestError):
    status = 404


class SignatureError(IngestError):
    """``reason`` for the log: "missing" (no usable signature, or no secret) or "mismatch"."""

    status = 401

    def __init__(self, message: str, *, reason: str = "mismatch") -> None:
        super().__init__(message)
        self.reason = reason


class EnvelopeError(IngestError):
    status = 400


class BodyTooLarge(IngestError):
    status = 413


class SlowBody(IngestError):
    status = 408


class BodyCut(IngestError):
    """The client closed the connection (or broke the chunked framing) before the body ended."""

    status = 400


class OperationError(PonteError):
    """An operator's request that cannot be done as asked; ``status`` is its HTTP status."""

    status = 400


class BadRequest(OperationError, ValueError):
    """An operator's request that cannot be done as asked (HTTP 400 / exit 2)."""

    status = 400


class NotFound(OperationError, LookupError):
    """No event, delivery or sink of that id or name (HTTP 404)."""

    status = 404


class Conflict(OperationError, RuntimeError):
    """The request is valid but there is nothing it can do (HTTP 409)."""

    status = 409


class ConsoleBusy(OperationError):
    """A console read waited or ran past its budget: probes and deliveries come first."""

    status = 503


class StorageUnavailable(PonteError):
    """The database cannot take writes now (full disk, I/O error, closed)."""


class StorageCorrupt(PonteError):
    """The database file cannot be used (not SQLite, or from a newer Ponte)."""


class TemplateError(PonteError):
    """A template could not be rendered; delivering it again would fail again."""


class SinkError(PonteError):
    """A sink failed to deliver; ``status_code`` is the receiver's answer, if any."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class TransientSinkError(SinkError):
    """Worth retrying later; ``retry_after`` (seconds) when the receiver asked for it."""

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class PermanentSinkError(SinkError):
    """Retrying will not help; the delivery fails for good."""


class SinkGoneError(PermanentSinkError):
    """The receiver is gone (410 Gone) or refused the sink's credentials; the sink is disabled.

    ``reason`` is what ``ponte.sink_disabled`` and ``ponte sinks`` say."""

    def __init__(
        self, message: str, *, status_code: int | None = None,
        reason: str = "the receiver answered 410 Gone",
    ) -> None:  # fmt: skip
        super().__init__(message, status_code=status_code)
        self.reason = reason
