"""Slow clients and large bodies: one stalled sender never holds back the others.

- A client that sends its headers and part of its body, then stalls, is answered 408 after
  ``server.read_timeout`` while other requests are answered at once.
- A body announced over ``max_body_bytes`` gets 413 before it is sent.
- 50 stalled clients at once do not stop a normal request.
- A client stalling inside its headers is cut off in bounded time (real ``ponte serve``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from conftest import post_signed, sign
from failkit import Ponte, event_body, free_port, write_config

pytestmark = pytest.mark.slow

READ_TIMEOUT = 1.0


class Conn:
    """A raw client connection whose bytes we control."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def status(self, timeout: float) -> int | None:
        """The status code of the answer, or None if the server closed the connection."""
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        return int(line.split()[1]) if line else None

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@contextlib.asynccontextmanager
async def connections(port: int, count: int) -> AsyncIterator[list[Conn]]:
    conns = [Conn(*await asyncio.open_connection("127.0.0.1", port)) for _ in range(count)]
    try:
        yield conns
    finally:
        await asyncio.gather(*(c.close() for c in conns))


def partial_request(body: bytes, sent: int) -> bytes:
    """A signed POST whose Content-Length announces ``body`` but which carries only ``sent`` bytes."""
    head = (b"POST /webhooks/eduzz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"x-signature: " + sign(body).encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body))
    return head + body[:sent]


@pytest.fixture
async def client(settings_for: Any, start: Any) -> Any:
    return await start(settings_for(server={"read_timeout": f"{READ_TIMEOUT}s", "max_body_bytes": 100_000}))


async def timed_post(client: Any, i: int) -> float:
    began = time.monotonic()
    resp = await post_signed(client, event_body(i))
    assert resp.status == 200
    return time.monotonic() - began


async def test_stalled_body_does_not_block_others_and_gets_408(client):
    """Headers and 100 of 2 000 bytes, then silence: others are answered at once; 408 at read_timeout."""
    body = event_body("slow", pad="x" * 2000)
    async with connections(client.server.port, 1) as (slow,):
        began = time.monotonic()
        await slow.send(partial_request(body, 100))
        waits = [await timed_post(client, i) for i in range(10)]
        assert max(waits) < 0.5, waits
        status = await slow.status(READ_TIMEOUT + 3)
        took = time.monotonic() - began
    assert status in (408, None)
    assert READ_TIMEOUT - 0.1 <= took <= READ_TIMEOUT + 1.5, took
    events = await (await client.get("/healthz")).json()
    assert events["status"] == "ok"


async def test_announced_body_over_the_limit_is_413_before_it_is_sent(client):
    """Content-Length of 50 MB with 1 KB sent: 413 comes back at once, the rest is never needed."""
    async with connections(client.server.port, 1) as (big,):
        began = time.monotonic()
        await big.send(b"POST /webhooks/eduzz HTTP/1.1\r\nHost: 127.0.0.1\r\nx-signature: 00\r\n"
                       b"Content-Length: 50000000\r\n\r\n" + b"a" * 1024)
        assert await big.status(3) == 413
        assert time.monotonic() - began < 1.0


async def test_expect_100_continue_over_the_limit_gets_413_not_100(client):
    """``Expect: 100-continue`` with 50 MB announced: the final 413, not an invitation to send."""
    async with connections(client.server.port, 1) as (big,):
        await big.send(b"POST /webhooks/eduzz HTTP/1.1\r\nHost: 127.0.0.1\r\nx-signature: 00\r\n"
                       b"Expect: 100-continue\r\nContent-Length: 50000000\r\n\r\n")
        assert await big.status(3) == 413


async def test_fifty_stalled_clients_do_not_stop_a_normal_request(client):
    """50 connections each stalled mid-body: normal requests are answered at once; every staller
    is answered 408 (or closed) soon after read_timeout."""
    body = event_body("stall", pad="y" * 5000)
    async with connections(client.server.port, 50) as stalled:
        began = time.monotonic()
        await asyncio.gather(*(c.send(partial_request(body, 10 + n)) for n, c in enumerate(stalled)))
        waits = [await timed_post(client, i) for i in range(5)]
        assert max(waits) < 0.5, waits
        statuses = await asyncio.gather(*(c.status(READ_TIMEOUT + 4) for c in stalled))
        took = time.monotonic() - began
    assert set(statuses) <= {408, None}, statuses
    assert took < READ_TIMEOUT + 3, took
    assert (await post_signed(client, event_body("after"))).status == 200


async def test_many_small_requests_beside_a_trickling_client(client):
    """A client trickling one byte every 200 ms (never finishing) is cut at read_timeout even
    though bytes keep coming; meanwhile 50 requests are answered."""
    body = event_body("trickle", pad="z" * 500)
    request = partial_request(body, 0)
    async with connections(client.server.port, 1) as (trickle,):
        began = time.monotonic()
        await trickle.send(request)

        async def drip() -> None:
            for byte in body[:50]:
                await asyncio.sleep(0.2)
                with contextlib.suppress(ConnectionError):
                    await trickle.send(bytes([byte]))

        dripping = asyncio.create_task(drip())
        waits = await asyncio.gather(*(timed_post(client, i) for i in range(50)))
        status = await trickle.status(READ_TIMEOUT + 3)
        took = time.monotonic() - began
        dripping.cancel()
        await asyncio.gather(dripping, return_exceptions=True)
    assert max(waits) < 2.0
    assert status in (408, None)
    assert took <= READ_TIMEOUT + 1.0, took


async def test_client_stalling_in_its_headers_is_cut_off(tmp_path):
    """Against ``ponte serve`` with read_timeout 1 s: a connection that sends half a header line and
    stops is closed within 5 s, and normal requests are answered meanwhile."""
    port = free_port()
    config = write_config(tmp_path, port, server={"host": "127.0.0.1", "port": port, "read_timeout": "1s"})
    ponte = Ponte(tmp_path, config, port).start()
    try:
        await ponte.wait_ready()
        async with connections(port, 5) as stalled:
            for conn in stalled:
                await conn.send(b"POST /webhooks/eduzz HTTP/1.1\r\nHost: 127.0.0.1\r\nx-sig")
            async with aiohttp.ClientSession() as http:
                for i in range(3):
                    body = event_body(i)
                    async with http.post(f"{ponte.url}/webhooks/eduzz", data=body,
                                         headers={"x-signature": sign(body)},
                                         timeout=aiohttp.ClientTimeout(total=2)) as resp:
                        assert resp.status == 200
            try:
                statuses = await asyncio.gather(*(c.status(5) for c in stalled))
            except TimeoutError:
                raise AssertionError("a client stalled in its headers was still connected after 5 s") from None
            assert set(statuses) <= {400, 408, None}
    finally:
        assert ponte.terminate() == 0
