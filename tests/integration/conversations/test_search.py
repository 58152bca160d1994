"""Search finds words across markdown and reasoning, and says where (SQLite and PostgreSQL)."""

from __future__ import annotations

from chat.models import Conversation, Message


def search(client, query: str) -> list[dict]:
    response = client.get("/api/conversations/", {"q": query})
    assert response.status_code == 200
    return response.json()["results"]


def marked(snippet: dict) -> list[str]:
    return [snippet["text"][start:end] for start, end in snippet["highlights"]]


def chat(owner, title: str, content: str, reasoning: str = "") -> Conversation:
    conversation = Conversation.objects.create(owner=owner, title=title)
    Message.objects.create(
        conversation=conversation, role="assistant", content=content, reasoning=reasoning
    )
    return conversation


def test_words_are_found_across_markdown_with_a_marked_snippet(alice, alice_client):
    found = chat(alice, "Plan", "1. **Restate** the problem in your own words.\n2. Solve it.")
    chat(alice, "Other", "Restate nothing here.")

    results = search(alice_client, "Restate the problem")

    assert [r["id"] for r in results] == [str(found.id)]
    snippet = results[0]["snippet"]
    assert "Restate the problem in your own words." in snippet["text"]
    assert "**" not in snippet["text"]
    assert "Restate" in marked(snippet) and "problem" in marked(snippet)


def test_words_in_any_order_and_in_the_reasoning_match(alice, alice_client):
    found = chat(alice, "Primes", "It is not prime.", reasoning="Try `59 * 61` = 3599, so...")
    results = search(alice_client, "3599 try")
    assert [r["id"] for r in results] == [str(found.id)]
    assert "3599" in marked(results[0]["snippet"])


def test_a_title_match_has_no_snippet_and_others_chats_stay_hidden(alice, bob, alice_client):
    by_title = Conversation.objects.create(owner=alice, title="Rust lifetimes")
    chat(bob, "Bob", "lifetimes everywhere")
    results = search(alice_client, "lifetimes")
    assert [(r["id"], r["snippet"]) for r in results] == [(str(by_title.id), None)]


def test_stored_text_comes_back_as_plain_text_never_markup(alice, alice_client):
    chat(alice, "Hostile", "<img src=x onerror=alert(1)> marker words")
    (result,) = search(alice_client, "marker")
    assert "marker words" in result["snippet"]["text"]  # the page sets it as text
    assert marked(result["snippet"]) == ["marker"]
