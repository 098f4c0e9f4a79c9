"""Per-client rate limiting: a token bucket per client address, answering 429 with Retry-After.

A pure ASGI middleware: it sees every request before routing and costs a dictionary lookup. The
client is the address the connection comes from (``scope["client"]``); behind a reverse proxy,
run uvicorn with ``--proxy-headers`` and ``--forwarded-allow-ips`` so that this is the real
client's. The static files of the pages are not counted: one page view loads several.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

MAX_CLIENTS = 100_000
EXEMPT_PREFIXES = ("/static/",)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimit:
    """At most ``burst`` requests at once per client, refilled at ``per_minute`` a minute.

    ``clock`` gives the seconds the buckets refill by (monotonic: a change of the wall clock
    must not refill or drain them); a test passes its own to know the exact time.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.take(client[0] if client else "unknown", self._clock())
        if wait > 0:
            await _too_many(send, math.ceil(wait))
            return
        await self.app(scope, receive, send)

    def take(self, client: str, now: float) -> float:
        """Take one token for ``client``: 0 if there was one, else the seconds until there is."""
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= MAX_CLIENTS:
                self._forget_idle(now)
            bucket = self._buckets[client] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        """Drop the clients whose buckets are full again (they would start full anyway), so
        that many addresses cannot grow the table without bound."""
        refill = self.burst / self.rate
        for client in [c for c, b in self._buckets.items() if now - b.updated >= refill]:
            del self._buckets[client]
        if len(self._buckets) >= MAX_CLIENTS:
            self._buckets.clear()


async def _too_many(send: Send, retry_after: int) -> None:
    body = (
        f"too many requests from this address: try again in {retry_after} s "
        "(the limits: docs/security.md)\n"
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
