"""The connection protocol's reads against an in-process asyncio server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from dlg_bib.links.connection import Connection

Check = Callable[[Connection], Awaitable[None]]


def with_server(payload: bytes, check: Check, close: bool = True) -> None:
    """Serve `payload` to one connection (then close it, if asked) and run `check`."""

    async def serve(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(payload)
        await writer.drain()
        if close:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            conn = await Connection.open("127.0.0.1", port, None, None)
            try:
                await asyncio.wait_for(check(conn), 5)
            finally:
                conn.close()

    asyncio.run(main())


def test_reading_more_than_the_high_water_mark_resumes_the_socket() -> None:
    big = bytes(range(256)) * 2400  # 600 KiB: reading pauses at 256 KiB and must resume

    async def check(conn: Connection) -> None:
        assert await conn.read_exactly(len(big)) == big

    with_server(big, check)


def test_read_until_returns_through_the_separator_and_keeps_the_rest() -> None:
    async def check(conn: Connection) -> None:
        assert await conn.read_until(b"\r\n\r\n", 100) == b"head\r\n\r\n"
        assert await conn.read_exactly(4) == b"body"

    with_server(b"head\r\n\r\nbody", check)


def test_read_until_past_its_limit_is_an_overrun() -> None:
    async def check(conn: Connection) -> None:
        with pytest.raises(asyncio.LimitOverrunError):
            await conn.read_until(b"\r\n\r\n", 100)

    with_server(b"x" * 200 + b"\r\n\r\n", check)


def test_end_of_stream_mid_read_gives_what_came() -> None:
    async def check(conn: Connection) -> None:
        with pytest.raises(asyncio.IncompleteReadError) as raised:
            await conn.read_exactly(10)
        assert raised.value.partial == b"short"
        assert await conn.read(10) == b""

    with_server(b"short", check)


def test_unread_bytes_make_a_connection_unusable_for_the_next_request() -> None:
    async def check(conn: Connection) -> None:
        assert await conn.read_until(b"\n", 100) == b"answer\n"
        await asyncio.sleep(0.05)  # "stray" has surely arrived
        assert not conn.reusable
        assert await conn.read(100) == b"stray"
        assert conn.reusable

    with_server(b"answer\nstray", check, close=False)
