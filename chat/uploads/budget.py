"""Which of a conversation's images one upstream request carries, within the size cap.

Every request re-sends the conversation, so without a cap a long conversation with
images grows until no request can carry it. The question's own images always go (they
were checked against the cap when sent); earlier images go newest first while they fit.
The cut is clean: once an image does not fit, it and every older one are left out, and
each turn that lost some says so in its text ("[image]", "[video: 8 frames]"), so the
model knows something was shown there and can ask for it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.models import Upload

from .downscale import is_oversized
from .images import data_url, encoded_size, request_image_cap


@dataclass(frozen=True, slots=True)
class TurnMedia:
    """One user turn's images as sent: data URLs, and a note for what was left out."""

    images: tuple[str, ...] = ()
    video_frames: tuple[str, ...] = ()
    omitted: tuple[str, ...] = ()  # placeholders, e.g. ("[image]", "[video: 8 frames]")

    def text_with_placeholders(self, text: str) -> str:
        """Return the turn's text, led by the placeholders of what was left out."""
        return f"{' '.join(self.omitted)}\n\n{text}" if self.omitted else text


@dataclass(slots=True)
class _Unit:
    """An image, or a whole video (its frames make sense only together)."""

    uploads: list[Upload]
    is_video: bool
    urls: tuple[str, ...] | None = None  # None: left out

    @property
    def placeholder(self) -> str:
        return f"[video: {len(self.uploads)} frames]" if self.is_video else "[image]"


def _units(uploads: list[Upload]) -> list[_Unit]:
    units = [_Unit([u], is_video=False) for u in uploads if not u.is_video_frame]
    frames = [u for u in uploads if u.is_video_frame]
    if frames:
        units.append(_Unit(frames, is_video=True))
    return units


def _encode_within(unit: _Unit, room: int) -> tuple[str, ...] | None:
    """Return the unit's data URLs if they fit in ``room`` bytes, reading only what may fit."""
    known = sum(encoded_size(u) for u in unit.uploads if not is_oversized(u.width, u.height))
    if known > room:
        return None
    urls = tuple(data_url(u) for u in unit.uploads)
    return urls if sum(map(len, urls)) <= room else None


def media_for_turns(
    turns: list[list[Upload]], cap: int | None = None, *, vision: bool = True
) -> list[TurnMedia]:
    """Return what each user turn (oldest first, the question last) sends of its images.

    Without ``vision`` (a model that cannot see) every image is a placeholder, so a
    conversation that showed images can go on with a text model.
    Raise AttachmentUnavailable when an image that is to be sent cannot be read. Images
    left out are never read.
    """
    cap = request_image_cap() if cap is None else cap
    per_turn = [_units(uploads) for uploads in turns]
    if not vision:
        return [_media(units) for units in per_turn]  # every unit's urls stay None
    room = cap
    if per_turn:
        for unit in per_turn[-1]:  # the question's own images always go
            unit.urls = tuple(data_url(u) for u in unit.uploads)
            room -= sum(map(len, unit.urls))
    full = False
    for units in reversed(per_turn[:-1]):
        for unit in reversed(units):  # the video, then the images, last attached first
            unit.urls = None if full else _encode_within(unit, room)
            if unit.urls is None:
                full = True
            else:
                room -= sum(map(len, unit.urls))
    return [_media(units) for units in per_turn]


def _media(units: list[_Unit]) -> TurnMedia:
    return TurnMedia(
        images=tuple(url for unit in units if not unit.is_video for url in unit.urls or ()),
        video_frames=next((unit.urls or () for unit in units if unit.is_video), ()),
        omitted=tuple(unit.placeholder for unit in units if unit.urls is None),
    )
