"""Branches of a conversation: which user turns follow which, and which is on screen.

The user messages form a tree. A user message follows its ``parent`` (the user message
of the turn before it in its branch); editing a turn adds a sibling (same parent), so
everything after the edited turn belongs to the old or the new branch. Among siblings
one ``is_active_version``; the active path from the first turn down is what the
conversation shows, and a reply's upstream history is its own question's ancestry.

Messages written before branches have no parent and no ``edit_of``: each follows the
user message created before it, so old, linear conversations read as one branch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chat.models import Message


@dataclass(frozen=True, slots=True)
class Turn:
    id: uuid.UUID
    parent: uuid.UUID | None
    is_active: bool


@dataclass(frozen=True, slots=True)
class Tree:
    """The user messages of one conversation, as a tree (ids only)."""

    turns: dict[uuid.UUID, Turn]
    children: dict[uuid.UUID | None, list[uuid.UUID]]  # oldest first

    def versions(self, message_id: uuid.UUID) -> list[uuid.UUID]:
        """Return the ids of a user turn's versions (the message and its siblings)."""
        return self.children[self.turns[message_id].parent]

    def active_path(self) -> list[uuid.UUID]:
        """Return the user message ids on screen, first turn first."""
        path: list[uuid.UUID] = []
        siblings = self.children.get(None, [])
        while siblings:
            active = [i for i in siblings if self.turns[i].is_active] or siblings
            path.append(active[-1])
            siblings = self.children.get(active[-1], [])
        return path

    def ancestry(self, message_id: uuid.UUID) -> list[uuid.UUID]:
        """Return the user message ids a turn follows, then the turn itself."""
        path: list[uuid.UUID] = []
        current: uuid.UUID | None = message_id
        while current is not None:
            path.append(current)
            current = self.turns[current].parent
        return path[::-1]


def conversation_tree(conversation_id: uuid.UUID) -> Tree:
    """Read the user messages of a conversation (ids and links only) as a tree."""
    rows = (
        Message.objects.filter(conversation_id=conversation_id, role=Message.Role.USER)
        .order_by("created_at", "id")
        .values_list("id", "parent_id", "edit_of_id", "is_active_version")
    )
    turns: dict[uuid.UUID, Turn] = {}
    children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    previous: uuid.UUID | None = None
    for message_id, parent_id, edit_of_id, is_active in rows:
        if parent_id is None and edit_of_id is not None and edit_of_id in turns:
            parent_id = turns[edit_of_id].parent  # an edit of a first turn
        elif parent_id is None and edit_of_id is None:
            parent_id = previous  # written before branches: follows the one before
        turns[message_id] = Turn(message_id, parent_id, is_active)
        children.setdefault(parent_id, []).append(message_id)
        previous = message_id
    return Tree(turns, children)
