"""The console in a real headless Chromium (Debian's chromium + chromium-driver, via Selenium).

Ponte runs for real (worker on) in a thread of its own, beside a local "CRM" endpoint that
fails until the test fixes it. Skipped when Chromium is missing, except under CI=true.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from console_helpers import TOKEN

from service.app import create_app
from service.commands.simulate import build_body, signed_headers
from service.config.load import parse_config
from service.config.settings import build_settings

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
DOCS = Path(__file__).resolve().parent.parent / "docs"
UPDATE_SCREENSHOTS = os.environ.get("PONTE_UPDATE_SCREENSHOTS") == "1"  # else they go to tmp_path
WAIT = 30  # seconds a browser step may take before the test fails


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    for path in (CHROMIUM, DRIVER):
        if not shutil.which(path):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


if (_why := _missing()) is not None:
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"browser tests need Chromium under CI: {_why}")
    pytest.skip(_why, allow_module_level=True)

from selenium import webdriver  # noqa: E402 - only once Chromium is known to be there
from selenium.webdriver.chrome.service import Service  # noqa: E402 - only once Chromium is known to be there
from selenium.webdriver.common.by import By  # noqa: E402 - only once Chromium is known to be there
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402 - only once Chromium is known to be there
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402 - only once Chromium is known to be there


class Crm:
    """A customer endpoint that answers 500 until ``fixed`` is set."""

    def __init__(self) -> None:
        self.fixed = False
        self.received = 0

    async def hook(self, request: web.Request) -> web.Response:
        await request.read()
        self.received += 1
        return web.Response(status=200 if self.fixed else 500, text="ok" if self.fixed else "quebrado")


class Running:
    """Ponte and the CRM on 127.0.0.1, served by an event loop in a background thread."""

    def __init__(self, tmp: Path) -> None:
        self.crm = Crm()
        self.loop = asyncio.new_event_loop()
        self.runners: list[web.AppRunner] = []
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        crm_app = web.Application()
        crm_app.router.add_post("/hook", self.crm.hook)
        crm_port = self._serve(crm_app)
        raw = {
            "server": {"admin_token": TOKEN},
            "storage": {"url": f"sqlite:///{tmp}/ponte.db"},
            "sources": {"eduzz": {"type": "eduzz", "secrets": ["s3cret"]}},
            "sinks": {"crm": {"type": "webhook", "url": f"http://127.0.0.1:{crm_port}/hook"},
                      "arquivo": {"type": "file", "path": str(tmp / "out.jsonl"),
                                  "rate_per_second": 0.3333333333333333},
                      "lembrete": {"type": "file", "path": str(tmp / "lembretes.jsonl")}},
            "routes": [{"name": "vendas", "events": ["myeduzz.invoice_*"], "to": ["crm", "arquivo"]},
                       {"name": "pix", "events": ["myeduzz.invoice_waiting_payment"],  # a follow-up
                        "to": [{"sink": "lembrete", "after": "30m", "unless": {
                            "events": ["myeduzz.invoice_paid"], "same": ["sale.order_id"]}}]}],
            "delivery": {"max_attempts": 1, "retry_schedule": ["1h"], "timeout": "2s"},
        }
        self.app = create_app(build_settings(parse_config(raw, env={})))
        self.url = f"http://127.0.0.1:{self._serve(self.app)}"

    def _serve(self, app: web.Application) -> int:
        async def start() -> int:
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.runners.append(runner)
            return int(runner.addresses[0][1])

        return asyncio.run_coroutine_threadsafe(start(), self.loop).result(WAIT)

    def sale(self, external_id: str, event: str = "myeduzz.invoice_paid", *overrides: str) -> None:
        """Send a signed invoice_paid (or ``event``), as Eduzz (or ``ponte simulate``) would."""
        body = build_body(event, list(overrides), external_id)
        headers = signed_headers(body, "s3cret", event)
        request = urllib.request.Request(f"{self.url}/webhooks/eduzz", data=body, headers=headers)
        with urllib.request.urlopen(request, timeout=WAIT) as resp:
            assert resp.status == 200

    def stop(self) -> None:
        async def cleanup() -> None:
            for runner in reversed(self.runners):
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(cleanup(), self.loop).result(WAIT)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()


@pytest.fixture
def ponte(tmp_path: Path) -> Iterator[Running]:
    """Ponte with its worker, and the CRM it delivers to."""
    running = Running(tmp_path)
    yield running
    running.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium at a laptop's window size, Portuguese first."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1300", "--lang=pt-BR"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "pt-BR,pt"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    yield driver
    driver.quit()


def _wait(driver: Any) -> Any:
    return WebDriverWait(driver, WAIT)


def _reloaded(check: Any) -> Any:
    """A wait condition that reloads the page before each look (the event page is not live)."""

    def look(driver: Any) -> Any:
        driver.refresh()
        return check(driver)

    return look


def test_a_sale_from_arrival_to_replay_in_the_browser(
    ponte: Running, browser: Any, tmp_path: Path
) -> None:
    """Log in, watch a sale arrive live, see masked data, replay after fixing the sink,
    disable a sink, try a route; screenshots (into docs/ with PONTE_UPDATE_SCREENSHOTS=1)."""
    shots = DOCS if UPDATE_SCREENSHOTS else tmp_path
    browser.get(f"{ponte.url}/ui/eventos")
    assert "/ui/login" in browser.current_url
    browser.find_element(By.ID, "password").send_keys(TOKEN + "\n")
    _wait(browser).until(ec.url_contains("/ui/eventos"))
    assert browser.find_elements(By.CSS_SELECTOR, "tr.event-row") == []

    ponte.sale("venda-ao-vivo-1")  # arrives while the page is open: no reload
    link = _wait(browser).until(ec.presence_of_element_located((By.LINK_TEXT, "myeduzz.invoice_paid")))
    row = browser.find_element(By.CSS_SELECTOR, "tr.event-row").text  # who bought what, for how much
    assert "Alice Johnson" in row and "Widget X +1" in row and "R$ 301,50" in row
    assert "a***@example.com" in row and "alice.johnson@example.com" not in row
    _wait(browser).until(lambda _: ponte.crm.received >= 1)
    link.click()
    _wait(browser).until(ec.presence_of_element_located((By.ID, "body")))
    body = browser.find_element(By.ID, "body").text
    assert "alice.johnson@example.com" not in body and "a***@example.com" in body
    assert browser.find_element(By.ID, "price").text == "R$ 301,50"
    _wait(browser).until(_reloaded(lambda d: "falhou" in d.find_element(By.ID, "deliveries").text))
    assert browser.save_screenshot(str(shots / "console-evento.png"))
    event_page = browser.current_url

    browser.find_element(By.LINK_TEXT, "Painel").click()
    attention = _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, ".attention"))).text
    assert "Falhas definitivas · crm" in attention and "o destino respondeu HTTP 500" in attention
    assert browser.save_screenshot(str(shots / "console-painel.png"))
    browser.get(event_page)

    ponte.crm.fixed = True
    browser.find_element(By.ID, "replay-crm").click()
    _wait(browser).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".notice"), "Enviadas para a fila: 1"))
    _wait(browser).until(lambda _: ponte.crm.received >= 2)

    def second_attempt_ok(driver: Any) -> bool:
        rows = driver.find_elements(By.CSS_SELECTOR, "tr.attempt")
        return any("entregue" in r.text and r.text.startswith("2 ") for r in rows)

    _wait(browser).until(_reloaded(second_attempt_ok))

    browser.find_element(By.LINK_TEXT, "Destinos").click()
    assert "20/min" in browser.find_element(By.ID, "sink-arquivo").text
    assert "Disjuntor" not in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.CSS_SELECTOR, "#sink-arquivo button").click()
    _wait(browser).until(ec.text_to_be_present_in_element((By.ID, "sink-arquivo"), "desativado"))

    browser.find_element(By.LINK_TEXT, "Regras").click()
    Select(browser.find_element(By.ID, "try-event")).select_by_visible_text("myeduzz.invoice_paid")
    browser.find_element(By.ID, "try").click()
    report = _wait(browser).until(ec.presence_of_element_located((By.ID, "report"))).text
    assert "vendas" in report and "→ crm" in report and "corresponde" in report

    browser.find_element(By.LINK_TEXT, "Painel").click()
    _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "svg.chart")))
    assert "Desativado · arquivo" in browser.find_element(By.CSS_SELECTOR, ".attention").text

    # a phone (headless windows stay >= 500 px wide, so emulate the device): pages fit the
    # width, wide tables scroll inside their own box
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    for page in ("/ui/", "/ui/eventos", event_page.removeprefix(ponte.url), "/ui/destinos", "/ui/regras"):
        browser.get(ponte.url + page)
        width, overflow = browser.execute_script(
            "const e = document.documentElement; return [e.clientWidth, e.scrollWidth - e.clientWidth]")
        assert width == 390 and overflow <= 0, (page, width, overflow)

    refused = [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert refused == []  # nothing the pages need is blocked by their own policy

    browser.execute_script("const s = document.createElement('script');"
                           "s.textContent = 'window.injected = 1'; document.body.appendChild(s);")
    assert browser.execute_script("return window.injected === undefined")  # inline code never runs
    assert any("Content Security Policy" in e["message"] for e in browser.get_log("browser"))

    # Sair ends the session in the database: the old cookie, put back, opens nothing
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.get(f"{ponte.url}/ui/")
    old = browser.get_cookie("ponte_console")
    browser.find_element(By.CSS_SELECTOR, "form[action='/ui/sair'] button").click()
    _wait(browser).until(ec.url_contains("/ui/login"))
    browser.add_cookie({k: old[k] for k in ("name", "value", "path")})
    browser.get(f"{ponte.url}/ui/")
    assert "/ui/login" in browser.current_url

def test_follow_ups_scheduled_and_cancelled_in_the_browser(ponte: Running, browser: Any) -> None:
    """Agendados lists the waiting follow-up (due time, route, sink, buyer masked), filters the
    cancelled one, and the event pages say "agendado para" / "cancelado pela venda #…"
    (English by the footer switch); the page fits a phone."""
    browser.get(f"{ponte.url}/ui/agendados")
    browser.find_element(By.ID, "password").send_keys(TOKEN + "\n")
    _wait(browser).until(ec.url_contains("/ui/agendados"))
    assert "Nenhuma mensagem agendada." in browser.find_element(By.ID, "none").text
    for invoice in ("A1", "B2"):
        ponte.sale(f"espera-{invoice}", "myeduzz.invoice_waiting_payment", f"data.id={invoice}")
    ponte.sale("pago-A1", "myeduzz.invoice_paid", "data.id=A1")

    browser.refresh()
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.scheduled-row")
    assert len(rows) == 1
    text = rows[0].text
    assert "pix" in text and "lembrete" in text and "myeduzz.invoice_waiting_payment" in text
    assert "a***@example.com" in text and "alice.johnson" not in browser.page_source

    Select(browser.find_element(By.NAME, "status")).select_by_visible_text("cancelada")
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    _wait(browser).until(ec.url_contains("status=cancelled"))
    row = browser.find_element(By.CSS_SELECTOR, "tr.scheduled-row")
    assert "cancelado pela venda #A1" in row.text
    row.find_element(By.PARTIAL_LINK_TEXT, "myeduzz.invoice_waiting_payment").click()
    note = _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.followup"))).text
    assert note.startswith("cancelado pela venda #A1 (evento #") and "myeduzz.invoice_paid" in note
    assert "cancelada" in browser.find_element(By.ID, "deliveries").text

    browser.find_element(By.LINK_TEXT, "English").click()
    note = _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.followup"))).text
    assert note.startswith("cancelled by sale #A1 (event #")
    browser.find_element(By.LINK_TEXT, "Scheduled").click()
    row = _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "tr.scheduled-row")))
    row.find_element(By.PARTIAL_LINK_TEXT, "myeduzz.invoice_waiting_payment").click()
    note = _wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.followup"))).text
    assert note.startswith("scheduled for ") and ":" in note

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    browser.get(f"{ponte.url}/ui/agendados")
    width, overflow = browser.execute_script(
        "const e = document.documentElement; return [e.clientWidth, e.scrollWidth - e.clientWidth]")
    assert width == 390 and overflow <= 0, (width, overflow)
