import pytest

from chat.titles import clean_title


@pytest.mark.parametrize(
    ("answer", "title"),
    [
        ("Sky colour explained", "Sky colour explained"),
        ('"Why the sky is blue."', "Why the sky is blue"),
        ("\n\n## **Rust lifetimes**\nmore text", "Rust lifetimes"),
        ("- Bullet: title!", "Bullet: title"),
        ("word " * 30, ("word " * 11).strip() + "…"),
        ("", ""),
    ],
)
def test_clean_title_keeps_one_short_plain_line(answer, title):
    assert clean_title(answer) == title
    assert len(clean_title(answer)) <= 60
