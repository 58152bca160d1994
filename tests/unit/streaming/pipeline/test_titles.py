import pytest

from chat.streaming.pipeline.titles import clean_title


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


def test_the_simulator_answers_a_title_request_with_a_title():
    from simulator.directives import Directives
    from simulator.script import build_script

    prompt = "User: Plan a three day trip to Kyoto in spring please\n\nAssistant: Day one…"
    script = build_script(prompt, Directives(), thinking=False, budget=None, title=True)
    assert script.answer_text == "Plan a three day trip to"
    assert clean_title(script.answer_text) == "Plan a three day trip to"
    assert (
        build_script(prompt, Directives(), thinking=False, budget=None).answer_text
        != script.answer_text
    )
