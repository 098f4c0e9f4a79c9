"""Which answers go whole, with their length, and which are streamed (web.protocol.relay): whole
up to WHOLE_ANSWER_BYTES, however many chunks they came in; streamed past it, with every byte."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest
from fastapi import Response
from fastapi.responses import StreamingResponse

from atrocity_kg.query.sandbox import CHUNK_SIZE, Chunk, End, Message, Start
from atrocity_kg.web.protocol import WHOLE_ANSWER_BYTES, relay

PIECE = CHUNK_SIZE


def pieces_of(size: int) -> list[bytes]:
    """``size`` bytes in pieces of PIECE (the last one shorter), each piece telling its place."""
    count = -(-size // PIECE)
    return [bytes([index % 256]) * min(PIECE, size - index * PIECE) for index in range(count)]


async def answered(chunks: list[bytes]) -> tuple[Response, bytes]:
    async def messages() -> AsyncGenerator[Message, None]:
        yield Start("application/sparql-results+json", 100)
        for chunk in chunks:
            yield Chunk(chunk)
        yield End()

    response = await relay(messages())
    if isinstance(response, StreamingResponse):
        parts = [part async for part in response.body_iterator]
        assert all(isinstance(part, bytes) for part in parts), parts
        body = b"".join(part for part in parts if isinstance(part, bytes))
    else:
        body = bytes(response.body)
    return response, body


@pytest.mark.parametrize("size", [0, 1, PIECE, PIECE + 1, 5 * PIECE, WHOLE_ANSWER_BYTES])
def test_an_answer_up_to_the_bound_goes_whole_with_its_length(size: int) -> None:
    chunks = pieces_of(size)
    response, body = asyncio.run(answered(chunks))
    assert not isinstance(response, StreamingResponse)
    assert body == b"".join(chunks)
    assert response.headers["content-length"] == str(size)


@pytest.mark.parametrize("size", [WHOLE_ANSWER_BYTES + 1, 3 * WHOLE_ANSWER_BYTES])
def test_a_longer_answer_is_streamed_whole(size: int) -> None:
    chunks = pieces_of(size)
    response, body = asyncio.run(answered(chunks))
    assert isinstance(response, StreamingResponse)
    assert "content-length" not in response.headers
    assert body == b"".join(chunks)
