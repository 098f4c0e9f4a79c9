"""Which of the query workers takes a query: the free one that answered last, so that queries
coming one at a time keep one process warm, while queries coming together use them all."""

from __future__ import annotations

import asyncio

from atrocity_kg.config import Settings
from server import HANG_GUARD_S, query_pool


def test_the_worker_that_answered_last_takes_the_next_query(built: Settings) -> None:
    async def scenario() -> None:
        async with query_pool(built, size=2, timeout=60.0) as pool:
            first, second = await pool.acquire(), await pool.acquire()
            assert first is not second, "two queries at once take two workers"
            pool.release(first, reusable=True)
            pool.release(second, reusable=True)
            for _ in range(3):
                taken = await pool.acquire()
                assert taken is second, "the worker that answered last should answer next"
                pool.release(taken, reusable=True)

    asyncio.run(asyncio.wait_for(scenario(), HANG_GUARD_S))
