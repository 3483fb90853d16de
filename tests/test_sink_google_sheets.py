"""Google Sheets sink against local fakes of Google's token endpoint and the Sheets API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp import web
from fake_google import SPREADSHEET, FakeGoogle, key_json, make_key, write_key

from service.config.schema import GoogleSheetsConfig
from service.errors import (
    ConfigError,
    PermanentSinkError,
    SinkError,
    SinkGoneError,
    TransientSinkError,
)
from service.sinks.google_sheets import ID_HEADER, GoogleSheetsSender, column_letter
from service.sinks.registry import build_sink
from sink_contract import (
    HOST,
    free_port,
    http,  # noqa: F401 - a fixture
    outgoing,
)

KEYS = make_key()
COLUMNS = {"columns": [{"header": "Evento", "value": "Venda aprovada"},
                       {"header": "Valor (R$)", "value": 301.5},
                       {"header": "Comprador", "value": "=HYPERLINK(\"http://evil\")"}]}  # fmt: skip
BODY = b'{"id": "evt-abc", "event": "myeduzz.invoice_paid", "data": {}}'


@dataclass
class Google:
    """The running fake and a way to build sinks pointing at it."""

    fake: FakeGoogle
    base: str
    key_path: str
    http: aiohttp.ClientSession

    def sink(self, **changes: Any) -> GoogleSheetsSender:
        """A google_sheets sink on the fake with the test key."""
        fields: dict[str, Any] = {"spreadsheet_id": SPREADSHEET, "sheet": "Vendas",
                                  "credentials": self.key_path, "api_url": f"{self.base}/v4", **changes}  # fmt: skip
        sink = build_sink("planilha", GoogleSheetsConfig(**fields), http=self.http, timeout=2)
        assert isinstance(sink, GoogleSheetsSender)
        return sink


@pytest.fixture
async def google(
    aiohttp_server: Any, tmp_path: Path, http: aiohttp.ClientSession
) -> AsyncIterator[Google]:
    """The fake Google on 127.0.0.1; the key file's token_uri points at it."""
    fake = FakeGoogle(KEYS[1])
    server = await aiohttp_server(fake.app(), host=HOST)
    fake.port = server.port
    base = f"http://{HOST}:{server.port}"
    yield Google(fake, base, write_key(tmp_path / "key.json", KEYS[0], f"{base}/token"), http)


def row(message: dict[str, Any] = COLUMNS, **changes: Any) -> Any:
    """An outgoing delivery with rendered columns."""
    return outgoing(**{"body": BODY, "message": message, **changes})


def assert_no_secret(texts: list[str], google: Google) -> None:
    """Neither the private key nor any access token appears."""
    body = KEYS[0].split("-----")[2].strip()
    for text in texts:
        assert body[:40] not in text and "PRIVATE KEY" not in text
        assert not any(token in text for token in google.fake.tokens)


async def failing(
    sink: GoogleSheetsSender, kind: type[SinkError], google: Google, out: Any = None
) -> SinkError:
    """Send, expect exactly ``kind``, and check nothing secret leaked."""
    with structlog.testing.capture_logs() as logs, pytest.raises(kind) as info:
        await sink.send(out or row())
    assert type(info.value) is kind, repr(info.value)
    assert_no_secret([str(info.value), repr(info.value), repr(logs)], google)
    return info.value


async def test_empty_sheet_gets_the_header_row_then_rows(google: Google) -> None:
    """The first append on an empty sheet carries the header row; the next ones do not."""
    sink = google.sink()
    result = await sink.send(row())
    await sink.send(row(body=BODY.replace(b"evt-abc", b"evt-def")))
    assert google.fake.sheets["Vendas"] == [
        ["Evento", "Valor (R$)", "Comprador", ID_HEADER],
        ["Venda aprovada", 301.5, '=HYPERLINK("http://evil")', "evt-abc"],
        ["Venda aprovada", 301.5, '=HYPERLINK("http://evil")', "evt-def"],
    ]
    assert result.response == "appended 2 row(s) at Vendas!A1:D2"
    assert google.fake.calls.count("token") == 1  # the token is reused until it expires
    await sink.close()


async def test_rows_are_sent_user_entered_with_text_quoted_so_formulas_stay_text(google: Google) -> None:
    """USER_ENTERED and INSERT_ROWS, every text ``'``-quoted: a payload's formula is never evaluated."""
    await google.sink().send(row())
    [append] = [c for c in google.fake.calls if c.startswith("APPEND")]
    assert append == "APPEND 'Vendas'!A1:append?valueInputOption=USER_ENTERED&insertDataOption=INSERT_ROWS"
    assert "'=HYPERLINK(\"http://evil\")" in google.fake.sent[0][1]


async def test_the_event_id_column_is_added_when_missing(google: Google) -> None:
    """Columns without ``ID do evento`` get it as the last column, from the envelope id."""
    sink = google.sink()
    await sink.send(row({"columns": [{"header": "Evento", "value": "x"}]}))
    assert google.fake.sheets["Vendas"] == [["Evento", ID_HEADER], ["x", "evt-abc"]]


async def test_a_retry_after_a_lost_answer_does_not_append_twice(google: Google) -> None:
    """The append happened but the answer was a 503: the retry finds the id and stops."""
    google.fake.sheets["Vendas"].append(["Evento", "Valor (R$)", "Comprador", ID_HEADER])
    google.fake.lose_answer = True
    sink = google.sink()
    await failing(sink, TransientSinkError, google)
    result = await sink.send(row(attempt=2))
    assert result.response == "row for evt-abc already present"
    assert len(google.fake.sheets["Vendas"]) == 2


async def test_a_retry_without_the_row_appends_it(google: Google) -> None:
    """A retry whose first try never reached the sheet appends normally."""
    google.fake.sheets["Vendas"].append(["Evento", "Valor (R$)", "Comprador", ID_HEADER])
    await google.sink().send(row(attempt=3))
    assert google.fake.sheets["Vendas"][1][3] == "evt-abc"


async def test_429_is_transient_with_retry_after(google: Google) -> None:
    """RESOURCE_EXHAUSTED 429 backs off, honouring Retry-After."""
    sink = google.sink()
    await sink.send(row())  # token and header known
    google.fake.script.append((429, {"Retry-After": "30"}))
    error = await failing(sink, TransientSinkError, google, row(body=BODY.replace(b"abc", b"xyz")))
    assert error.status_code == 429 and error.retry_after == 30  # type: ignore[attr-defined]


async def test_a_missing_sheet_is_permanent(google: Google) -> None:
    """A sheet (tab) that does not exist: permanent, named in the error."""
    error = await failing(google.sink(sheet="Nao Existe"), PermanentSinkError, google)
    assert "'Nao Existe' does not exist" in str(error) and error.status_code == 400


async def test_a_missing_spreadsheet_is_permanent(google: Google) -> None:
    """A spreadsheet id that does not exist: 404, permanent."""
    error = await failing(google.sink(spreadsheet_id="1NoSuchSheet"), PermanentSinkError, google)
    assert "spreadsheet not found" in str(error)


async def test_a_refused_token_disables_the_sink(google: Google) -> None:
    """The token endpoint says invalid_grant (account deleted): the sink is gone, Google's words."""
    google.fake.refuse_grants = True
    error = await failing(google.sink(), SinkGoneError, google)
    assert "invalid_grant" in str(error)


async def test_a_key_signed_by_another_key_is_refused(google: Google, tmp_path: Path) -> None:
    """The fake checks the JWT signature: a key that is not the registered one fails."""
    other = write_key(tmp_path / "other.json", make_key()[0], f"{google.base}/token")
    error = await failing(google.sink(credentials=other), SinkGoneError, google)
    assert "Invalid JWT Signature" in str(error)


async def test_an_unreachable_token_endpoint_is_transient(google: Google, tmp_path: Path) -> None:
    """Nothing listening at token_uri: worth a retry."""
    key = write_key(tmp_path / "down.json", KEYS[0], f"http://{HOST}:{free_port()}/token")
    await failing(google.sink(credentials=key), TransientSinkError, google)


async def test_key_content_from_an_env_var_works(google: Google) -> None:
    """``credentials`` may hold the key's JSON itself instead of a path."""
    content = json.dumps(key_json(KEYS[0], f"{google.base}/token"))
    await google.sink(credentials=content).send(row())
    assert len(google.fake.sheets["Vendas"]) == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read key file"),
        ("not json", "is not valid JSON"),
        ('["a"]', "not a JSON object"),
        ('{"type": "service_account"}', "lacks client_email, private_key, token_uri"),
        ('{"type": "authorized_user", "client_email": "a", "private_key": "b", "token_uri": "c"}',
         "not 'service_account'"),
        (('{"type": "service_account", "client_email": "a", "private_key": "-----BEGIN PRIVATE KEY-----\\nAAAA",'
          ' "token_uri": "c"}'), "private_key cannot be read"),
    ],
)  # fmt: skip
def test_bad_key_files_are_config_errors(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    """A missing or malformed key is a ConfigError at sinks.<name>.credentials, key not quoted."""
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)
    cfg = GoogleSheetsConfig(spreadsheet_id="x", sheet="Vendas", credentials=str(path))
    with pytest.raises(ConfigError) as info:
        GoogleSheetsSender("planilha", cfg, http=None, timeout=1)  # type: ignore[arg-type]
    [error] = info.value.errors
    assert error.startswith("sinks.planilha.credentials: ") and expected in error
    assert "AAAA" not in error


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (8, "I"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")]
)
def test_column_letters(index: int, letters: str) -> None:
    """Column indexes become A1 letters."""
    assert column_letter(index) == letters


async def test_an_expired_token_is_dropped_and_fetched_again(google: Google) -> None:
    """401 from Sheets: transient, and the next send gets a new token and succeeds."""
    sink = google.sink()
    await sink.send(row())
    google.fake.tokens.clear()  # Google no longer accepts the token the sink holds
    await failing(sink, TransientSinkError, google, row(body=BODY.replace(b"abc", b"b2")))
    await sink.send(row(body=BODY.replace(b"abc", b"b2"), attempt=2))
    assert google.fake.calls.count("token") == 2 and len(google.fake.sheets["Vendas"]) == 3


async def test_no_access_names_the_account_to_share_with(google: Google) -> None:
    """403: the sink is disabled, telling which e-mail to share the spreadsheet with."""
    sink = google.sink()
    await sink.send(row())
    google.fake.script.append((403, {}))
    error = await failing(sink, SinkGoneError, google, row(body=BODY.replace(b"abc", b"b3")))
    assert "share it with ponte@ponte-test.iam.gserviceaccount.com" in str(error)


async def test_a_failed_first_append_still_writes_the_header_next_time(google: Google) -> None:
    """An empty sheet whose first append failed gets the header row on the retry."""
    sink = google.sink()
    original = google.fake._apply

    def refuse(target: str, values: list[list[Any]]) -> Any:
        """The append does not land (the header read before it did)."""
        return web.json_response({"error": {"code": 503, "status": "UNAVAILABLE"}}, status=503)

    google.fake._apply = refuse  # type: ignore[method-assign]
    await failing(sink, TransientSinkError, google)
    google.fake._apply = original  # type: ignore[method-assign]
    await sink.send(row(attempt=2))
    assert google.fake.sheets["Vendas"][0][-1] == ID_HEADER and len(google.fake.sheets["Vendas"]) == 2


async def test_the_token_request_never_follows_a_redirect(
        aiohttp_server: Any, tmp_path: Path, http: aiohttp.ClientSession) -> None:
    """A token endpoint answering 307 to another host: the signed assertion is not re-POSTed."""
    stolen: list[bytes] = []

    async def thief(request: web.Request) -> web.Response:
        stolen.append(await request.read())
        return web.json_response({"access_token": "ya29.stolen", "expires_in": 3600})

    other = web.Application()
    other.router.add_post("/token", thief)
    elsewhere = await aiohttp_server(other, host=HOST)

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"http://localhost:{elsewhere.port}/token")

    first = web.Application()
    first.router.add_post("/token", redirect)
    google = await aiohttp_server(first, host=HOST)
    key = write_key(tmp_path / "key.json", KEYS[0], f"http://{HOST}:{google.port}/token")
    cfg = GoogleSheetsConfig(spreadsheet_id=SPREADSHEET, sheet="Vendas", credentials=key,
                             api_url=f"http://{HOST}:{google.port}/v4")
    sink = build_sink("planilha", cfg, http=http, timeout=2)
    try:
        with pytest.raises(PermanentSinkError) as caught:
            await sink.send(row())
    finally:
        await sink.close()
    assert stolen == []
    assert not isinstance(caught.value, SinkGoneError)
    assert "HTTP 307: redirect not followed" in str(caught.value)


async def test_dates_are_sent_for_sheets_to_read_and_text_stays_text(google: Google) -> None:
    """USER_ENTERED: an ISO date becomes a real date; other text is quoted, so never a formula."""
    message = {"columns": [{"header": "Data", "value": "2024-01-20 12:00:00"},
                           {"header": "Dia", "value": "2024-01-20"},
                           {"header": "Valor (R$)", "value": -301.5},
                           {"header": "Comprador", "value": '=HYPERLINK("http://evil")'},
                           {"header": "Código", "value": "00123"}]}  # fmt: skip
    sink = google.sink()
    await sink.send(row(message))
    append = next(c for c in google.fake.calls if c.startswith("APPEND"))
    assert "valueInputOption=USER_ENTERED" in append
    assert google.fake.sent[0][1] == [
        "2024-01-20 12:00:00", "2024-01-20", -301.5, "'=HYPERLINK(\"http://evil\")", "'00123", "'evt-abc"]
    assert google.fake.sheets["Vendas"][1][3:] == ['=HYPERLINK("http://evil")', "00123", "evt-abc"]
