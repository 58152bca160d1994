"""A reply's text as it grows: every piece kept, few strings held, any suffix by offset."""

from __future__ import annotations

import random
import sys

from chat.streaming.pipeline.relay import TextLog


def pieces(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    alphabet = "abc 思考🤔\n"
    return ["".join(rng.choices(alphabet, k=rng.randint(0, 6))) for _ in range(count)]


def test_the_text_and_every_suffix_are_the_pieces_joined():
    parts = pieces(1000)
    log = TextLog()
    for part in parts:
        log.append(part)
    text = "".join(parts)
    assert str(log) == text and len(log) == len(text)
    for start in (0, 1, 7, len(text) // 3, len(text) - 1, len(text)):
        assert log.since(start) == text[start:]


def test_a_log_started_from_a_snapshot_goes_on_after_it():
    log = TextLog("so far")
    log.append(", and more")
    assert str(log) == "so far, and more"
    assert log.since(6) == ", and more"
    assert TextLog().since(0) == "" and str(TextLog()) == ""


def test_a_long_trace_is_held_in_few_strings():
    log = TextLog()
    for part in pieces(30_000):
        log.append(part)
    held = log._chunks + log._tail
    assert len(held) < 30_000 // TextLog.FOLD_AT + TextLog.FOLD_AT
    # About the text's own size, not ~60 bytes per piece.
    assert sum(sys.getsizeof(s) for s in held) < 4 * len(str(log).encode()) + 100_000
