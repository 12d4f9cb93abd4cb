"""A minimal HTTP/1.1 GET client on one keep-alive connection, for the load benchmark.

A browser tab keeps its connections to the server open and polls over them. Opening a new
connection per poll (as tornado's client does) makes the benchmark measure TCP set-up and,
with hundreds of polls at once, the server's accept queue, and it costs the load generator,
which shares the machine with the server, more than the server's answer does.
"""

from __future__ import annotations

import asyncio

# Large enough for a whole 10,000-job body, so it is read as it arrives, as a browser does,
# without the stream pausing the socket every 128 KiB.
_READ_LIMIT = 64 * 1024 * 1024


class KeepAliveConnection:
    """Sends one GET at a time over one connection, reopened when the server closes it."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host = host
        self.port = port
        self.headers = headers
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, etag: str = "") -> tuple[int, str, bytes]:
        """Status, ETag and body of GET ``path`` (with If-None-Match when ``etag`` is known)."""
        reader, writer = await self._open()
        headers = {"Host": f"{self.host}:{self.port}", **self.headers}
        if etag:
            headers["If-None-Match"] = etag
        lines = [f"GET {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status = int(head[0].split()[1])
            fields = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
            if "transfer-encoding" in fields:
                msg = f"unexpected Transfer-Encoding {fields['transfer-encoding']} from {path}"
                raise RuntimeError(msg)
            body = await reader.readexactly(int(fields.get("content-length", "0")))
        except BaseException:
            await self.close()
            raise
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, fields.get("etag", etag), body

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, limit=_READ_LIMIT
            )
        return self._reader, self._writer
