"""Google Sheets: append one row per event with ``spreadsheets.values.append`` (API v4).

Rows are sent with ``valueInputOption=USER_ENTERED`` and ``insertDataOption=INSERT_ROWS``.
Numbers go as JSON numbers; a text that is an ISO date (``2024-01-20`` or
``2024-01-20 12:00:00``, unambiguous in every locale) goes as is, so Sheets stores a real
date; every other text is sent with a leading ``'``, Sheets' own "this is text" mark, so a
payload's ``=HYPERLINK(…)`` stays text, never a formula, and ``00123`` keeps its zeros. The first send reads row 1: an
empty sheet gets the header row together with the first row. Appends are not
idempotent, so the event id is always a column (``ID do evento``, added when the
columns lack it) and any retry first reads that column: a row already there is success.
Sends are serialised per sink (the header check and the id check must not race).

    2xx                     success
    400 "Unable to parse range"   PermanentSinkError: the sheet (tab) does not exist
    401                     TransientSinkError; the token is dropped and fetched again
    403                     SinkGoneError: not shared with the account (the sink is disabled)
    404                     PermanentSinkError: no such spreadsheet
    other                   as ``service.sinks.http.check_status`` (429/5xx transient)
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import msgspec

from service.config.schema import GoogleSheetsConfig
from service.errors import ConfigError, PermanentSinkError, SinkGoneError, TransientSinkError
from service.render.formats import FORMATS
from service.sinks.base import Context, Outgoing, SendResult, SinkKind
from service.sinks.google_auth import ServiceAccountKeyError, TokenSource, build_credentials
from service.sinks.http import (
    Reply,
    check_status,
    json_object,
    post,
    redact,
    snippet,
    transport_errors,
)

ID_HEADER = "ID do evento"
CELL_LIMIT = 50_000  # characters in one cell (Sheets)
READ_LIMIT = 16 * 1024 * 1024  # bytes of the id column read before a retry
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Row:
    """The headers, the values and where the event id is."""

    headers: list[str]
    values: list[Any]
    id_index: int

    @property
    def event_key(self) -> str:
        return str(self.values[self.id_index])


def build_row(out: Outgoing, label: str = "google_sheets sink") -> Row:
    """The row for a delivery from its rendered ``columns``, with the event id column."""
    columns = (
        (out.message or {}).get("columns")
        if out.message is not None
        else [{"header": "Evento", "value": out.event}]
    )  # no message: the event's name and id
    if not isinstance(columns, list) or not all(_is_column(c) for c in columns):
        raise PermanentSinkError(f"{label}: columns must be a list of {{header, value}}")
    headers = [str(c["header"]) for c in columns]
    values = [cell(c.get("value")) for c in columns]
    if ID_HEADER not in headers:
        headers.append(ID_HEADER)
        values.append("")
    index = headers.index(ID_HEADER)
    if values[index] in ("", None):
        values[index] = _event_key(out)
    return Row(headers, values, index)


def _is_column(column: Any) -> bool:
    return (
        isinstance(column, dict)
        and isinstance(column.get("header"), str)
        and column["header"] != ""
    )


def _event_key(out: Outgoing) -> str:
    try:
        doc = msgspec.json.decode(out.body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        doc = None
    found = doc.get("id") if isinstance(doc, dict) else None
    return str(found) if found not in (None, "") else f"ponte-{out.event_id}"


_ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d(?: \d\d:\d\d(?::\d\d)?)?$")


def entered(value: Any) -> Any:
    """A cell as USER_ENTERED reads it as meant: dates as dates, any other text as text."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        return "'" + value
    return value


def cell(value: Any) -> Any:
    """A cell's value: text (at most 50,000 characters), a number or a boolean."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


def column_letter(index: int) -> str:
    """0 → ``A``, 25 → ``Z``, 26 → ``AA``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def a1(sheet: str, cells: str) -> str:
    """``'Vendas 2025'!A:A``, quoted for the URL path."""
    return quote("'" + sheet.replace("'", "''") + "'!" + cells, safe="")


class GoogleSheetsSender:
    """Appends one row per delivery to ``cfg.sheet`` of ``cfg.spreadsheet_id``."""

    kind = "google_sheets"

    def __init__(
        self, name: str, cfg: GoogleSheetsConfig, *, http: aiohttp.ClientSession, timeout: float
    ) -> None:
        self.name = name
        self.cfg = cfg
        self.http = http
        self.timeout = timeout
        self.label = f"google_sheets sink {name!r}"
        try:
            credentials = build_credentials(cfg.credentials)
        except ServiceAccountKeyError as exc:
            raise ConfigError([f"sinks.{name}.credentials: {exc}"]) from None
        self.account = credentials.service_account_email
        self.tokens: TokenSource = TokenSource(credentials, self.label, timeout)
        self.base = f"{cfg.api_url.rstrip('/')}/spreadsheets/{cfg.spreadsheet_id}/values"
        self.secrets = [cfg.credentials]
        self.id_column: int | None = None  # where the sheet keeps event ids; None: not read yet
        self._lock = asyncio.Lock()

    async def send(self, out: Outgoing) -> SendResult:
        """Append the row (after the header row on an empty sheet; skipped if already there)."""
        row = build_row(out, self.label)
        async with self._lock:
            header = await self._read_header() if self.id_column is None else None
            if header:  # a sheet with content: remember where it keeps event ids
                self.id_column = header.index(ID_HEADER) if ID_HEADER in header else row.id_index
            rows = [row.headers, row.values] if header == [] else [row.values]
            if out.attempt > 1 and header != [] and await self._has_row(row.event_key):
                return SendResult(
                    status_code=200, response=f"row for {row.event_key} already present"
                )
            reply = await self._append(rows)
            if self.id_column is None:  # only once the header row is surely written
                self.id_column = row.id_index
        said = redact(_updated(reply.text), [*self.secrets, self.tokens.current])
        return SendResult(status_code=reply.status, response=said)

    async def close(self) -> None:
        """Close the token transport (the HTTP session belongs to the app)."""
        self.tokens.close()

    async def _read_header(self) -> list[str]:
        reply = await self._get(a1(self.cfg.sheet, "1:1"))
        values = _values(reply.text)
        return [str(v) for v in values[0]] if values else []

    async def _has_row(self, key: str) -> bool:
        letter = column_letter(self.id_column or 0)
        reply = await self._get(
            a1(self.cfg.sheet, f"{letter}:{letter}") + "?majorDimension=COLUMNS"
        )
        values = _values(reply.text)
        return bool(values) and key in (str(v) for v in values[0])

    async def _append(self, rows: list[list[Any]]) -> Reply:
        query = "valueInputOption=USER_ENTERED&insertDataOption=INSERT_ROWS"
        url = f"{self.base}/{a1(self.cfg.sheet, 'A1')}:append?{query}"
        values = [[entered(v) for v in r] for r in rows]
        body = msgspec.json.encode({"majorDimension": "ROWS", "values": values})
        headers = {"Content-Type": JSON, "Authorization": f"Bearer {await self.tokens.token()}"}
        reply = await post(
            self.http, url, label=self.label, data=body, headers=headers, timeout=self.timeout
        )
        self._check(reply)
        return reply

    async def _get(self, tail: str) -> Reply:
        headers = {"Authorization": f"Bearer {await self.tokens.token()}"}
        with transport_errors(self.label, self.timeout):
            async with self.http.get(
                f"{self.base}/{tail}", headers=headers, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:  # fmt: skip
                text = (await resp.content.read(READ_LIMIT)).decode("utf-8", "replace")
                reply = Reply(resp.status, text, resp.headers.get("Retry-After"))
        self._check(reply)
        return reply

    def _check(self, reply: Reply) -> None:
        status = reply.status
        if 200 <= status < 300:
            return
        said = snippet(_error_message(reply.text), [*self.secrets, self.tokens.current])
        if status == 400 and "Unable to parse range" in reply.text:
            missing = f"the sheet {self.cfg.sheet!r} does not exist in the spreadsheet"
            raise PermanentSinkError(f"{self.label}: {missing} ({said})", status_code=status)
        if status == 401:
            self.tokens.expire()
            raise TransientSinkError(
                f"{self.label}: access token refused ({said})", status_code=status
            )
        if status == 403:
            share = f"no access to the spreadsheet: share it with {self.account} as an editor"
            reason = f"no access to the spreadsheet (share it with {self.account})"
            text = f"{self.label}: {share} ({said})"
            raise SinkGoneError(text, status_code=status, reason=reason)
        if status == 404:
            raise PermanentSinkError(
                f"{self.label}: spreadsheet not found ({said})", status_code=status
            )
        check_status(self.label, Reply(status, said, reply.retry_after), self.secrets)


def _values(text: str) -> list[list[Any]]:
    values = json_object(text).get("values")
    return values if isinstance(values, list) and all(isinstance(v, list) for v in values) else []


def _error_message(text: str) -> str:
    error = json_object(text).get("error")
    if isinstance(error, dict):
        return f"{error.get('status', '')}: {error.get('message', '')}".strip(": ")
    return text


def _updated(text: str) -> str:
    updates = json_object(text).get("updates")
    if isinstance(updates, dict):
        rows, where = updates.get("updatedRows", "?"), updates.get("updatedRange", "?")
        return f"appended {rows} row(s) at {where}"
    return "appended"


def _build(name: str, cfg: GoogleSheetsConfig, ctx: Context) -> GoogleSheetsSender:
    return GoogleSheetsSender(name, cfg, http=ctx.http, timeout=ctx.timeout)


KIND = SinkKind(GoogleSheetsConfig, _build, format=FORMATS["google_sheets"], digests=False)
