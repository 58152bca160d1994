"""A websocket's language is chosen as a signed-in page's: the user's pick, else the browser's.

The language cookie is not read: it carries a pick to the signed-out pages only.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from accounts.language.choices import language_for_scope


def scope(*, picked: str = "", cookie: str | None = None, accept: str | None = None) -> dict:
    headers = [(b"accept-language", accept.encode())] if accept else []
    cookies = {"django_language": cookie} if cookie else {}
    return {"user": SimpleNamespace(language=picked), "cookies": cookies, "headers": headers}


@pytest.mark.parametrize(
    ("handshake", "expected"),
    [
        (scope(picked="ja", cookie="zh-hant", accept="zh-CN"), "ja"),
        (scope(cookie="zh-hant", accept="ja"), "ja"),  # a cookie left by an undone pick
        (scope(accept="zh-CN,zh;q=0.9,en;q=0.5"), "zh-hans"),
        (scope(accept="ja-JP,ja;q=0.9"), "ja"),
        (scope(accept="fr-FR"), "en"),
        (scope(), "en"),
        (scope(picked="klingon", accept="ja"), "ja"),  # a pick no longer offered
    ],
)
def test_the_language_of_a_websocket(handshake, expected):
    assert language_for_scope(handshake) == expected


def test_an_anonymous_handshake_follows_the_browser():
    assert language_for_scope({"headers": [(b"accept-language", b"ja")]}) == "ja"


def test_the_cookie_header_is_not_read_either():
    headers = [(b"cookie", b"sessionid=x; django_language=zh-hant"), (b"accept-language", b"ja")]
    assert language_for_scope({"headers": headers}) == "ja"
