"""The load benchmark's clients (bench/load.py): a GET whose kept-alive connection the server
closed before answering is sent once more on a new connection and counted apart; any other
lost connection is an error.

The server here is a few lines of asyncio speaking HTTP/1.1 by hand, so that it can close a
connection at an exact point (after reading the next request, without answering): no timing.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import load

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"

T = TypeVar("T")

Policy = Callable[[int, int], bool]
"""Whether to answer a connection's n-th request (from 1), given the connection's number."""


@asynccontextmanager
async def http_server(answers: Policy) -> AsyncIterator[tuple[str, list[int]]]:
    """A server on a free loopback port; its base URL and the requests each connection read.
    A request it does not answer has its connection closed."""
    read_by_connection: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = len(read_by_connection)
        read_by_connection.append(0)
        try:
            while (await reader.readuntil(b"\r\n\r\n")) != b"":
                read_by_connection[number] += 1
                if not answers(number, read_by_connection[number]):
                    break
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", read_by_connection


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(scenario())


def test_a_kept_alive_connection_closed_before_the_answer_is_sent_again() -> None:
    # The first connection answers its first request and closes at its second, unanswered:
    # what a client meets when the server's keep-alive ends as the request goes out.
    async def scenario() -> tuple[list[bool], list[int]]:
        async with (
            http_server(lambda connection, request: connection > 0 or request == 1) as (
                base,
                read,
            ),
            httpx.AsyncClient(base_url=base) as client,
        ):
            again = []
            for _ in range(2):
                response, sent_again = await load.get_once_more_if_closed_while_idle(
                    client, "/x", {}
                )
                assert response.status_code == 200
                again.append(sent_again)
            return again, read

    again, read = run(scenario)
    assert again == [False, True]
    assert read == [2, 1], "the second GET went out on the first connection, then a new one"


def test_a_new_connection_closed_without_an_answer_is_an_error() -> None:
    async def scenario() -> list[int]:
        async with (
            http_server(lambda connection, request: False) as (base, read),
            httpx.AsyncClient(base_url=base) as client,
        ):
            with pytest.raises(httpx.RemoteProtocolError):
                await load.get_once_more_if_closed_while_idle(client, "/x", {})
            return read

    assert run(scenario) == [1], "sent once: a connection of its own failed, not a kept one"


def test_it_is_sent_again_once_only() -> None:
    # Two kept-alive connections, each closing at its second request: the GET meets the one,
    # is sent again on the other, and that second failure is the client's error.
    async def scenario() -> list[int]:
        async with (
            http_server(lambda connection, request: request == 1) as (base, read),
            httpx.AsyncClient(base_url=base) as client,
        ):
            await asyncio.gather(client.get("/x"), client.get("/x"))
            assert read == [1, 1], "two requests at once: two connections"
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                await load.get_once_more_if_closed_while_idle(client, "/x", {})
            return read

    assert run(scenario) == [2, 2]
