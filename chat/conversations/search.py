"""Search a user's conversations by title and by the words of their messages.

Message text is markdown, so words hide behind punctuation (``**Restate** the
problem``). Every word of the query must occur in a message's answer or reasoning,
in any order. PostgreSQL matches with its full-text search (``websearch_to_tsquery``,
English stemming) computed at query time: no index and no migration, fine for one
user's messages. SQLite, the fallback, ANDs one ``icontains`` per word. Each hit
carries a snippet of the best message as plain text with the match offsets, so the
page marks them up itself and never renders stored text as HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Concat

from accounts.models import User
from chat.models import Conversation, Message

MAX_RESULTS = 500
MAX_CANDIDATES = 2000  # messages looked at for snippets; the newest first
SNIPPET_BEFORE, SNIPPET_AFTER = 40, 140
START, STOP = "\x02", "\x03"  # ts_headline's selection marks; never in a query's words

_MARKUP = re.compile(
    r"[*`~|\\]+|(?<!\w)_+|_+(?!\w)|^[ \t]*[#>]+|\]\([^)\s]*\)|[\[\]]", re.MULTILINE
)
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Snippet:
    """Plain text around a match; ``highlights`` are (start, end) offsets into it."""

    text: str
    highlights: tuple[tuple[int, int], ...]

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "highlights": [list(span) for span in self.highlights]}


@dataclass(frozen=True, slots=True)
class SearchHit:
    conversation: Conversation
    snippet: Snippet | None  # None when only the title matched


def plain_text(markdown: str) -> str:
    """Return markdown as the words a reader sees: emphasis, code and link marks dropped."""
    return _SPACES.sub(" ", _MARKUP.sub("", markdown)).strip()


def query_words(query: str) -> list[str]:
    return _WORD.findall(query.lower())


def search_conversations(user: User, query: str) -> list[SearchHit]:
    """Return the user's conversations matching ``query``, newest first, with snippets."""
    words = query_words(query)
    if not words:
        return []
    conversations = Conversation.objects.filter(owner=user, deleted_at__isnull=True)
    messages = Message.objects.filter(
        conversation__owner=user, conversation__deleted_at__isnull=True, purged_at__isnull=True
    )
    if connection.vendor == "postgresql":
        snippets = _postgres_snippets(messages, query)
    else:
        snippets = _fallback_snippets(messages, words)
    title_match = Q(title__icontains=query) | _all_words(words, "title")
    found = conversations.filter(title_match | Q(id__in=list(snippets)))
    return [
        SearchHit(conversation, snippets.get(conversation.id))
        for conversation in found.order_by("-updated_at")[:MAX_RESULTS]
    ]


def _all_words(words: list[str], *fields: str) -> Q:
    match = Q()
    for word in words:
        either = Q()
        for field in fields:
            either |= Q(**{f"{field}__icontains": word})
        match &= either
    return match


def _fallback_snippets(messages: Any, words: list[str]) -> dict[Any, Snippet]:
    candidates = (
        messages.filter(_all_words(words, "content", "reasoning"))
        .order_by("-created_at")
        .values_list("conversation_id", "content", "reasoning")[:MAX_CANDIDATES]
    )
    snippets: dict[Any, Snippet] = {}
    for conversation_id, content, reasoning in candidates:
        if conversation_id in snippets:
            continue
        snippet = make_snippet(plain_text(f"{content}\n{reasoning}"), words)
        if snippet is not None:
            snippets[conversation_id] = snippet
    return snippets


def make_snippet(text: str, words: list[str]) -> Snippet | None:
    """Return the text around the first place all words meet (else the first word)."""
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\w*", re.IGNORECASE)
    matches = list(pattern.finditer(text))
    found = {w for m in matches for w in words if m.group(0).lower().startswith(w)}
    if found != set(words):
        return None
    phrase = re.search(r"\W+".join(map(re.escape, words)), text, re.IGNORECASE)
    anchor = phrase.start() if phrase else matches[0].start()
    start = max(0, anchor - SNIPPET_BEFORE)
    if start:
        start = text.find(" ", start, anchor) + 1 or start
    end = min(len(text), anchor + SNIPPET_AFTER)
    if end < len(text) and (cut := text.rfind(" ", anchor, end)) > anchor:
        end = cut
    prefix = "…" if start else ""
    body = text[start:end]
    spans = tuple(
        (m.start() - start + len(prefix), m.end() - start + len(prefix))
        for m in matches
        if m.start() >= start and m.end() <= end
    )
    return Snippet(prefix + body + ("…" if end < len(text) else ""), spans)


def _postgres_snippets(messages: Any, query: str) -> dict[Any, Snippet]:
    from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchVector
    from django.db.models import Func

    search_query = SearchQuery(query, search_type="websearch", config="english")
    text = Concat(F("content"), Value("\n"), F("reasoning"), output_field=TextField())
    # The headline is cut from the text as read, markdown marks dropped (as plain_text).
    readable = Func(text, Value(r"[*`~|\\\[\]]+|^[ \t]*[#>]+"), Value(""), Value("gn"),
                    function="regexp_replace", output_field=TextField())  # fmt: skip
    candidates = (
        messages.annotate(document=SearchVector("content", "reasoning", config="english"))
        .filter(document=search_query)
        .order_by("-created_at")
        .values("conversation_id", "id")[:MAX_CANDIDATES]
    )
    newest: dict[Any, Any] = {}
    for row in candidates:
        newest.setdefault(row["conversation_id"], row["id"])
    headlines = Message.objects.filter(id__in=newest.values()).annotate(
        headline=SearchHeadline(
            readable,
            search_query,
            config="english",
            start_sel=START,
            stop_sel=STOP,
            max_words=30,
            min_words=12,
            max_fragments=1,
        )
    )
    return {m.conversation_id: parse_headline(m.headline) for m in headlines}


def parse_headline(headline: str) -> Snippet:
    """Turn ts_headline's marked text into plain text and offsets."""
    text, spans, start = "", [], 0
    for part in re.split(f"([{START}{STOP}])", _SPACES.sub(" ", headline).strip()):
        if part == START:
            start = len(text)
        elif part == STOP:
            spans.append((start, len(text)))
        else:
            text += part
    return Snippet(text, tuple(spans))
