"""How the server reads its query workers' messages (query.sandbox.FrameReader): whole messages
in order, whatever pieces the bytes come in, and nothing lost when a read is cancelled halfway
(a client leaving mid-answer), so that the worker's next answer is read as it was written."""

from __future__ import annotations

import asyncio

import pytest

from atrocity_kg.query.sandbox import Chunk, End, FrameReader, Start, _frame


def read_all(pieces: list[bytes]) -> list[object]:
    async def scenario() -> list[object]:
        stream = asyncio.StreamReader()
        for piece in pieces:
            stream.feed_data(piece)
        stream.feed_eof()
        frames = FrameReader(stream)
        found = []
        while (message := await frames.next()) is not None:
            found.append(message)
        return found

    return asyncio.run(scenario())


MESSAGES: list[object] = [
    [Start("application/sparql-results+json", 10)],
    [Chunk(b"x" * 70_000), End()],
]


@pytest.mark.parametrize("size", [1, 7, 8, 9, 4096, 10**6])
def test_messages_come_whole_whatever_pieces_their_bytes_come_in(size: int) -> None:
    data = b"".join(_frame(message) for message in MESSAGES)
    pieces = [data[at : at + size] for at in range(0, len(data), size)]
    assert read_all(pieces) == MESSAGES


def test_a_stream_cut_inside_a_message_ends_without_it() -> None:
    whole, cut = _frame(MESSAGES[0]), _frame(MESSAGES[1])
    assert read_all([whole, cut[:-1]]) == [MESSAGES[0]]
    assert read_all([whole, cut[:5]]) == [MESSAGES[0]]


@pytest.mark.parametrize("cut_at", [3, 8, 20])
def test_a_read_cancelled_halfway_loses_nothing(cut_at: int) -> None:
    """The first read is cancelled while only part of the message has come (inside its length,
    just after it, inside its body); the next read gets the whole message, then the next."""
    first, second = (_frame(message) for message in MESSAGES)

    async def scenario() -> list[object]:
        stream = asyncio.StreamReader()
        frames = FrameReader(stream)
        stream.feed_data(first[:cut_at])
        reading = asyncio.ensure_future(frames.next())
        await asyncio.sleep(0)  # the read takes what has come, and waits for the rest
        assert not reading.done()
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        stream.feed_data(first[cut_at:] + second)
        stream.feed_eof()
        return [await frames.next(), await frames.next(), await frames.next()]

    assert asyncio.run(scenario()) == [*MESSAGES, None]
