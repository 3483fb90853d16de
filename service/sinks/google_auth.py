"""Google service-account keys and OAuth access tokens, through ``google-auth``.

``credentials`` in the config is either the path of the JSON key file Google gives you,
or the key's JSON content itself (a value starting with ``{``, e.g. from an env var
``GOOGLE_SERVICE_ACCOUNT_JSON``). The key's own ``token_uri`` is where tokens come from.
google-auth signs the JWT and exchanges it; its refresh is blocking (``requests``), so
it runs in a thread, one refresh at a time. Errors never quote the key.

google-auth (and ``requests``) are imported by the functions that use them, not by this
module: they cost about 85 ms of start-up and 10 MiB, and only a google_sheets sink needs
them. These are the only imports inside functions in ``service/`` (pyproject.toml).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from service.errors import PermanentSinkError, SinkGoneError, TransientSinkError

if TYPE_CHECKING:
    from google.oauth2 import service_account

SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
REQUIRED = ("type", "client_email", "private_key", "token_uri")
KEY_LIMIT = 64 * 1024  # a service-account key is about 2.3 KB


class ServiceAccountKeyError(ValueError):
    """A service-account key that cannot be used; the text never contains the key."""


def read_key(credentials: str) -> dict[str, Any]:
    """The key as a mapping, from JSON content or a file path.

    ServiceAccountKeyError says what is wrong, never quoting the key."""
    inline = credentials.lstrip().startswith("{")
    text = credentials if inline else _read_file(credentials)
    try:
        info = json.loads(text)
    except ValueError:
        where = "the key" if inline else f"key file {credentials!r}"
        raise ServiceAccountKeyError(f"{where} is not valid JSON") from None
    if not isinstance(info, dict):
        raise ServiceAccountKeyError("the key is not a JSON object")
    missing = [k for k in REQUIRED if not isinstance(info.get(k), str) or not info[k]]
    if missing:
        raise ServiceAccountKeyError(
            f"the key lacks {', '.join(missing)} (is it a service-account key?)"
        )
    if info["type"] != "service_account":
        raise ServiceAccountKeyError(
            f"the key's type is {info['type'][:40]!r}, not 'service_account'"
        )
    return info


def _read_file(path: str) -> str:
    """The key file's text; only a regular file of at most ``KEY_LIMIT`` bytes is read."""
    try:
        file = Path(path)
        if file.exists() and not file.is_file():  # /dev/zero would be read without end
            raise ServiceAccountKeyError(f"key file {path!r} is not a regular file")
        with file.open("rb") as handle:
            data = handle.read(KEY_LIMIT + 1)
        if len(data) > KEY_LIMIT:
            raise ServiceAccountKeyError(f"key file {path!r} is over {KEY_LIMIT // 1024} KB")
        return data.decode("utf-8")
    except ServiceAccountKeyError:
        raise
    except UnicodeDecodeError:
        raise ServiceAccountKeyError(f"key file {path!r} is not UTF-8 text") from None
    except ValueError:  # a NUL byte in the path ("\0")
        raise ServiceAccountKeyError("cannot read key file (the path holds a NUL byte)") from None
    except OSError as exc:
        raise ServiceAccountKeyError(
            f"cannot read key file {path!r} ({exc.strerror or type(exc).__name__})"
        ) from None


def build_credentials(credentials: str) -> service_account.Credentials:
    """Credentials for the Sheets scope; ServiceAccountKeyError when the key is bad."""
    import google.auth.exceptions  # noqa: PLC0415 - lazy google-auth (module docstring)
    from google.oauth2 import service_account  # noqa: PLC0415 - lazy google-auth

    info = read_key(credentials)
    try:
        credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=SCOPES
        )
        return cast(service_account.Credentials, credentials)
    except (ValueError, TypeError, google.auth.exceptions.GoogleAuthError):
        raise ServiceAccountKeyError(
            "the key's private_key cannot be read (not a PEM RSA key)"
        ) from None


class _TimedRequest:
    """google-auth's requests transport with Ponte's timeout on every call, never following
    a redirect: a token endpoint's 3xx would re-POST the signed assertion to another host."""

    def __init__(self, timeout: float) -> None:
        import google.auth.transport.requests  # noqa: PLC0415 - lazy google-auth

        self.inner = google.auth.transport.requests.Request()
        self.session = self.inner.session
        self.timeout = timeout

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> Any:
        call = self.inner.__call__
        kwargs["allow_redirects"] = False
        response = call(url, method, body, headers, timeout=self.timeout, **kwargs)  # type: ignore[no-untyped-call]
        if 300 <= response.status < 400:
            raise RedirectRefused(response.status)
        return response


class RedirectRefused(Exception):
    """The token endpoint answered a redirect; it is not followed (carries the status)."""


class TokenSource:
    """An access token for the service account, refreshed when it is about to expire."""

    def __init__(
        self, credentials: service_account.Credentials, label: str, timeout: float
    ) -> None:
        self.credentials = credentials
        self.label = label
        self.request = _TimedRequest(timeout)
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        """A valid access token; TransientSinkError / SinkGoneError when none can be had."""
        async with self._lock:
            if not self.credentials.valid:
                await self._refresh()
            return str(self.credentials.token)

    @property
    def current(self) -> str:
        """The access token in use ("" before the first), to mask it in answers."""
        return str(self.credentials.token or "")

    def expire(self) -> None:
        """Forget the token (the API said 401): the next call fetches a new one."""
        self.credentials.token = None

    async def _refresh(self) -> None:
        import google.auth.exceptions  # noqa: PLC0415 - lazy google-auth

        try:
            await asyncio.to_thread(self.credentials.refresh, self.request)
        except google.auth.exceptions.RefreshError as exc:
            reason = _reason(exc)
            if getattr(exc, "retryable", False):
                raise TransientSinkError(f"{self.label}: token request failed ({reason})") from None
            text = f"{self.label}: token refused ({reason})"
            refused = f"Google refused the service-account key ({reason})"
            raise SinkGoneError(text, reason=refused) from None
        except RedirectRefused as exc:
            text = f"{self.label}: the token endpoint answered HTTP {exc.args[0]}: redirect not followed"
            raise PermanentSinkError(text, status_code=exc.args[0]) from None
        except google.auth.exceptions.TransportError:
            raise TransientSinkError(f"{self.label}: cannot reach the token endpoint") from None

    def close(self) -> None:
        """Close the requests session google-auth used."""
        self.request.session.close()


def _reason(exc: Exception) -> str:
    """The OAuth error code and description only (``invalid_grant: Invalid JWT Signature.``)."""
    first = str(exc.args[0]) if exc.args else type(exc).__name__
    return " ".join(first.split())[:200]
