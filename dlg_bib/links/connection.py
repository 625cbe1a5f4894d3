"""One TCP or TLS connection as an asyncio Protocol, with the three reads an HTTP/1.1 client
needs: up to a separator, exactly n bytes, up to n bytes.

Why not asyncio streams: StreamReader and its protocol cost ~30 % more CPU per request
(measured: 1,000 connections and 2,000 requests took 0.15 s of CPU with streams and 0.11 s
with this), and a link check with a thousand requests in flight is CPU-bound on its one
core. Errors are the ones streams raise: IncompleteReadError at the end of the stream,
LimitOverrunError past a limit, and the socket's own error when the connection broke.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import cast

# Stop reading from the socket while this much is buffered and unread: bodies are read only
# up to a small bound, and a fast server must not fill memory meanwhile.
_HIGH_WATER = 256 * 1024


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._eof = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._transport: asyncio.Transport | None = None
        self._paused = False

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        happy_eyeballs_delay: float | None,
    ) -> Connection:
        loop = asyncio.get_running_loop()
        _transport, conn = await loop.create_connection(
            cls,
            host,
            port,
            ssl=ssl_context,
            server_hostname=host if ssl_context else None,
            happy_eyeballs_delay=happy_eyeballs_delay,
        )
        return conn

    # ---- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > _HIGH_WATER and not self._paused and self._transport:
            self._transport.pause_reading()
            self._paused = True
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._error = exc
        self._wake()

    # ---- for the client ---------------------------------------------------------------

    @property
    def reusable(self) -> bool:
        """Open, and holding no bytes that no request asked for."""
        transport = self._transport
        return not self._eof and not self._buffer and not (transport and transport.is_closing())

    def write(self, data: bytes) -> None:
        if self._transport is not None:
            self._transport.write(data)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def read_until(self, separator: bytes, limit: int) -> bytes:
        """Everything up to and including `separator`, found within `limit` bytes."""
        start = 0
        while (found := self._buffer.find(separator, start)) < 0:
            if len(self._buffer) > limit:
                break
            self._raise_at_end(None)
            start = max(0, len(self._buffer) - len(separator) + 1)
            await self._wait()
        if found < 0 or found + len(separator) > limit:
            raise asyncio.LimitOverrunError("separator not found within the limit", limit)
        return self._take(found + len(separator))

    async def read_exactly(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._raise_at_end(count)
            await self._wait()
        return self._take(count)

    async def read(self, most: int) -> bytes:
        """Up to `most` bytes as soon as any are there; b"" at the end of the stream."""
        while not self._buffer:
            if self._eof:
                if self._error is not None:
                    raise self._error
                return b""
            await self._wait()
        return self._take(min(most, len(self._buffer)))

    # ---- internals ----------------------------------------------------------------------

    def _raise_at_end(self, expected: int | None) -> None:
        if not self._eof:
            return
        if self._error is not None:
            raise self._error
        raise asyncio.IncompleteReadError(self._take(len(self._buffer)), expected)

    def _take(self, count: int) -> bytes:
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _wait(self) -> None:
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None
