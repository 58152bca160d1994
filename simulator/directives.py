"""``[[sim:...]]`` directives that tests put in the last user message."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

_DIRECTIVE_RE = re.compile(r"\[\[sim:([^\]]*)\]\]")
FAULTS = frozenset(
    {"401", "429", "500", "error_body", "disconnect", "stall", "malformed", "stream_error"}
)


@dataclass(frozen=True, slots=True)
class Directives:
    """What the test asked the simulator to do differently."""

    fault: str | None = None
    after: int = 0  # token pieces sent before a mid-stream fault
    seconds: float = 30.0  # length of a stall
    times: int | None = None  # fail only the first K identical requests
    retry_after: float | None = None
    rate: float | None = None  # token pieces per second; 0 = as fast as possible
    reasoning_tokens: int | None = None
    answer_tokens: int | None = None
    reasoning: str | None = None
    answer: str | None = None
    split_utf8: bool = False


def _b64(value: str) -> str | None:
    padded = value + "=" * (-len(value) % 4)
    try:
        return base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None


def _number(value: str, kind: type[int] | type[float]) -> int | float | None:
    try:
        number = kind(value)
    except ValueError:
        return None
    return number if number >= 0 else None


def parse_directives(text: str) -> Directives:
    """Return the merged directives found in ``text`` (unknown keys are ignored)."""
    values: dict[str, object] = {}
    for match in _DIRECTIVE_RE.finditer(text):
        for item in match.group(1).split():
            key, _, value = item.partition("=")
            if key == "fault" and value in FAULTS:
                values["fault"] = value
            elif key in {"after", "times", "reasoning_tokens", "answer_tokens"}:
                values[key] = _number(value, int)
            elif key in {"seconds", "rate", "retry_after"}:
                values[key] = _number(value, float)
            elif key in {"reasoning", "answer"}:
                values[key] = _b64(value)
            elif key == "split_utf8":
                values[key] = value not in {"0", "false", ""}
    fields = {key: value for key, value in values.items() if value is not None}
    return Directives(**fields)  # type: ignore[arg-type]


def strip_directives(text: str) -> str:
    """Return ``text`` without its directives."""
    return _DIRECTIVE_RE.sub("", text).strip()


def encode_text(text: str) -> str:
    """Return ``text`` as the unpadded base64url a ``reasoning=``/``answer=`` value takes."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")
