"""The console filters events by platform (the type of the source that received them)."""

from __future__ import annotations

import re

import pytest
from console_helpers import console_sections, log_in
from platformkit import SOURCES, post_platform

from conftest import SECRET, fixture_body, post_signed
from service.store.open import open_store
from service.store.records import Filter, NewEvent


def _ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-id="(\d+)"', html)}


async def test_the_events_list_filters_by_platform(tmp_path, settings_for, start):
    """?platform=hotmart lists the events of every Hotmart source, and only those."""
    sources = {
        "eduzz": {"type": "eduzz", "secrets": [SECRET]},
        **SOURCES,
        "hotmart2": SOURCES["hotmart"],  # a second Hotmart account
    }
    client = await start(settings_for(sources=sources, **console_sections()))
    ids: dict[str, int] = {}
    resp = await post_signed(client, fixture_body("myeduzz.invoice_paid"))
    ids["eduzz"] = (await resp.json())["event_id"]
    resp = await post_platform(client, "hotmart.purchase_approved")
    ids["hotmart"] = (await resp.json())["event_id"]
    hotmart2 = client.post(
        "/webhooks/hotmart2",
        data=b'{"id": "outra-conta", "event": "PURCHASE_REFUNDED", "version": "2.0.0", "data": {}}',
        headers={"X-HOTMART-HOTTOK": SOURCES["hotmart"]["hottok"][1]},
    )
    ids["hotmart2"] = (await (await hotmart2).json())["event_id"]
    resp = await post_platform(client, "kiwify.order_approved")
    ids["kiwify"] = (await resp.json())["event_id"]
    await log_in(client)
    page = await (await client.get("/ui/eventos")).text()
    assert '<select name="platform">' in page
    for value, label in (("eduzz", "Eduzz"), ("hotmart", "Hotmart"), ("kiwify", "Kiwify")):
        assert f'<option value="{value}">{label}</option>' in page
    assert _ids(page) == set(ids.values())
    hot = await (await client.get("/ui/eventos?platform=hotmart")).text()
    assert _ids(hot) == {ids["hotmart"], ids["hotmart2"]}
    assert '<option value="hotmart" selected>' in hot
    assert _ids(await (await client.get("/ui/eventos?platform=kiwify")).text()) == {ids["kiwify"]}
    both = await (await client.get("/ui/eventos?platform=hotmart&source=hotmart2")).text()
    assert _ids(both) == {ids["hotmart2"]}
    none = await (await client.get("/ui/eventos?platform=token")).text()
    assert _ids(none) == set()
    bad = await (await client.get("/ui/eventos?platform=nada")).text()
    assert "platform must be one of" in bad
    live = await client.get("/ui/eventos/novos?after=0&platform=kiwify")
    assert _ids(await live.text()) == {ids["kiwify"]}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_the_store_lists_events_of_several_sources(tmp_path, request, backend):
    """Filter.sources: one of these sources, on both backends; an empty tuple matches none."""
    url = f"sqlite:///{tmp_path}/p.db" if backend == "sqlite" else request.getfixturevalue("pg_url")
    store = open_store(url)
    await store.open()
    try:
        for i, source in enumerate(["eduzz", "hotmart", "hotmart2", "kiwify"]):
            await store.save_event(
                NewEvent(source, f"x{i}", f"{source}.e", None, 1000.0 + i, "accepted", {}, b"{}"), []
            )

        async def sources_of(flt: Filter) -> list[str]:
            return [e.source for e in (await store.list_events(flt, 50, None)).items]

        assert await sources_of(Filter(sources=("hotmart", "hotmart2"))) == ["hotmart2", "hotmart"]
        assert await sources_of(Filter(sources=("kiwify",), event="kiwify.*")) == ["kiwify"]
        assert await sources_of(Filter(sources=())) == []
        page = await store.scan_events(Filter(sources=("hotmart",)), None, 10, None, 100)
        assert [e.source for e in page.items] == ["hotmart"]
    finally:
        await store.close()
