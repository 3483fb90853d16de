"""A local fake of Google's OAuth token endpoint and the Sheets API v4 values endpoints.

Token endpoint (``POST /token``), as Google documents the service-account flow: a form
body with ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` and an ``assertion``
JWT signed RS256 by the key, whose ``aud`` is Google's token URI, ``iss`` the client e-mail
and ``scope`` includes spreadsheets (else ``400 {"error": "invalid_grant", ...}``).

Sheets (``/v4/spreadsheets/{id}/values/{range}`` GET and ``…:append`` POST): a Bearer
token issued above (else 401 UNAUTHENTICATED); the spreadsheet exists (404 NOT_FOUND);
the range's sheet exists (400 "Unable to parse range"); ``valueInputOption`` is given
(400 INVALID_ARGUMENT); ``values`` is a list of lists. Errors in Google's JSON shape.
``script`` holds canned ``(status, headers)`` answers given before the checks, and
``lose_answer`` applies the next append but answers 503, like a timeout after success.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import google.auth.exceptions
import google.auth.jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SPREADSHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
CLIENT_EMAIL = "ponte@ponte-test.iam.gserviceaccount.com"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/spreadsheets"
AUDIENCE = (
    "https://oauth2.googleapis.com/token"  # what Google expects in ``aud``, whatever the token_uri
)
_RANGE = re.compile(r"^(?:'((?:[^']|'')+)'|([^!']+))(?:!(.*))?$")


def make_key() -> tuple[str, str]:
    """A fresh RSA key: (private key PEM, public key PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()  # fmt: skip
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()  # fmt: skip
    return private, public


def key_json(private_pem: str, token_uri: str) -> dict[str, str]:
    """A service-account key file's content, as Google issues it."""
    return {"type": "service_account", "project_id": "ponte-test", "private_key_id": "0123abcd",
            "private_key": private_pem, "client_email": CLIENT_EMAIL, "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri}  # fmt: skip


def write_key(path: Path, private_pem: str, token_uri: str) -> str:
    """Write a key file and return its path as text."""
    path.write_text(json.dumps(key_json(private_pem, token_uri)), encoding="utf-8")
    return str(path)


@dataclass
class FakeGoogle:
    """Token endpoint + Sheets; ``sheets`` maps sheet name -> rows."""

    public_pem: str
    port: int = 0
    sheets: dict[str, list[list[Any]]] = field(default_factory=lambda: {"Vendas": []})
    tokens: set[str] = field(default_factory=set)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    lose_answer: bool = False
    refuse_grants: bool = False
    calls: list[str] = field(default_factory=list)
    sent: list[list[list[Any]]] = field(default_factory=list)  # the values of each append, as sent
    numbers: Any = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        """The aiohttp app."""
        app = web.Application()
        app.router.add_post("/token", self.token)
        app.router.add_get("/v4/spreadsheets/{id}/values/{range}", self.get)
        app.router.add_post("/v4/spreadsheets/{id}/values/{range}", self.append)
        return app

    async def token(self, request: web.Request) -> web.Response:
        """The OAuth 2.0 JWT-bearer grant."""
        self.calls.append("token")
        form = parse_qs((await request.read()).decode())
        if form.get("grant_type") != [GRANT] or "assertion" not in form:
            return _oauth_error("unsupported_grant_type", "Invalid grant_type.")
        try:
            claims = google.auth.jwt.decode(
                form["assertion"][0], certs=self.public_pem, audience=AUDIENCE
            )
        except (ValueError, google.auth.exceptions.GoogleAuthError):
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        if (
            self.refuse_grants
            or claims.get("iss") != CLIENT_EMAIL
            or SCOPE not in str(claims.get("scope"))
        ):
            return _oauth_error("invalid_grant", "Invalid grant: account not found")
        token = f"ya29.fake-access-token-{next(self.numbers)}"
        self.tokens.add(token)
        return web.json_response(
            {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
        )

    async def get(self, request: web.Request) -> web.Response:
        """``spreadsheets.values.get``."""
        self.calls.append(f"GET {request.match_info['range']}")
        problem = self._check(request)
        if problem is not None:
            return problem
        sheet, cells = _parse_range(request.match_info["range"])
        rows = self.sheets[sheet]
        if cells == "1:1":
            values = rows[:1]
        else:
            col = _column_index(cells.split(":")[0])
            values = (
                [[r[col] for r in rows if len(r) > col]]
                if request.query.get("majorDimension") == "COLUMNS"
                else []
            )
        body: dict[str, Any] = {"range": f"{sheet}!{cells}", "majorDimension": "ROWS"}
        if values and values[0]:
            body["values"] = values
        return web.json_response(body)

    async def append(self, request: web.Request) -> web.Response:
        """``spreadsheets.values.append`` (the path ends in ``:append``)."""
        target = request.match_info["range"]
        self.calls.append(f"APPEND {target}?{request.query_string}")
        if not target.endswith(":append"):
            return _error(404, "NOT_FOUND", "Method not found.")
        problem = self._check(request, target.removesuffix(":append"))
        if problem is not None:
            return problem
        if request.query.get("valueInputOption") not in ("RAW", "USER_ENTERED"):
            return _error(
                400, "INVALID_ARGUMENT", "'valueInputOption' is required but not specified"
            )
        if request.query.get("insertDataOption", "OVERWRITE") not in ("OVERWRITE", "INSERT_ROWS"):
            return _error(400, "INVALID_ARGUMENT", "Invalid value at 'insert_data_option'")
        body = await request.json()
        values = body.get("values")
        if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
            return _error(400, "INVALID_ARGUMENT", "Invalid values: expected a list of lists")
        self.sent.append(values)
        if request.query["valueInputOption"] == "USER_ENTERED":  # a leading ' keeps text as text
            values = [[_entered(v) for v in r] for r in values]
        return self._apply(target.removesuffix(":append"), values)

    def _apply(self, target: str, values: list[list[Any]]) -> web.Response:
        sheet, _ = _parse_range(target)
        start = len(self.sheets[sheet]) + 1
        self.sheets[sheet].extend(values)
        if self.lose_answer:
            self.lose_answer = False
            return _error(503, "UNAVAILABLE", "The service is currently unavailable.")
        done = f"{sheet}!A{start}:{chr(64 + max(len(r) for r in values))}{start + len(values) - 1}"
        return web.json_response({"spreadsheetId": SPREADSHEET, "tableRange": f"{sheet}!A1",
                                  "updates": {"spreadsheetId": SPREADSHEET, "updatedRange": done,
                                              "updatedRows": len(values)}})  # fmt: skip

    def _check(self, request: web.Request, target: str | None = None) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self.tokens:
            return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if self.script:
            status, headers = self.script.pop(0)
            return _error(
                status,
                "RESOURCE_EXHAUSTED" if status == 429 else "UNAVAILABLE",
                "scripted",
                headers,
            )
        if request.match_info["id"] != SPREADSHEET:
            return _error(404, "NOT_FOUND", "Requested entity was not found.")
        sheet, _ = _parse_range(target or request.match_info["range"])
        if sheet not in self.sheets:
            return _error(
                400,
                "INVALID_ARGUMENT",
                f"Unable to parse range: {target or request.match_info['range']}",
            )
        return None


def _entered(value: Any) -> Any:
    """What Sheets keeps of a USER_ENTERED value: a ``'``-quoted text without its quote
    (dates stay as sent here; Sheets would store a date serial shown in the sheet's format)."""
    return value[1:] if isinstance(value, str) and value.startswith("'") else value


def _parse_range(text: str) -> tuple[str, str]:
    match = _RANGE.match(text)
    if match is None:
        return "", ""
    sheet = match[1].replace("''", "'") if match[1] is not None else match[2]
    return sheet, match[3] or ""


def _column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index - 1


def _error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"code": status, "message": message, "status": kind}}
    return web.json_response(body, status=status, headers=headers)


def _oauth_error(error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=400)
