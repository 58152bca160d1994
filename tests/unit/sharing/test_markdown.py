"""The share page's markdown: math kept as LaTeX source, code keeps its language."""

from __future__ import annotations

import pytest

from chat.sharing.markdown import render_markdown
from chat.sharing.mathrules import math_at


def test_the_four_delimiters_become_math_source():
    html = render_markdown(
        "a $a_1 * b_1$ b \\(x\\) c $$y$$\n\n\\[ z < 1 \\]\n\n$$\n\\int_0^1 x\n$$"
    )
    assert '<span class="math-tex math-inline">a_1 * b_1</span>' in html
    assert '<span class="math-tex math-inline">x</span>' in html
    assert '<span class="math-tex math-display">y</span>' in html
    assert '<div class="math-tex math-display">z &lt; 1</div>' in html
    assert '<div class="math-tex math-display">\\int_0^1 x</div>' in html
    assert "<em>" not in html


@pytest.mark.parametrize("text", ["costs $5 and $10", "$ 3 and 4 $", "so $$x^2", "a $x\ny$"])
def test_prose_dollars_and_unclosed_formulas_stay_text(text):
    assert "math-tex" not in render_markdown(text)


def test_an_unclosed_bracket_keeps_its_backslash():
    assert render_markdown("so \\[x^2") == "<p>so \\[x^2</p>\n"


def test_math_at_finds_only_closed_formulas():
    assert math_at("$x$ y", 0) is not None
    assert math_at("$5 and $10", 0) is None


def test_code_keeps_its_language_class_and_nothing_else_does():
    html = render_markdown("```python\nx = 1\n```\n\n`$x$`")
    assert '<code class="language-python">x = 1' in html
    assert "<code>$x$</code>" in html
    assert "math-tex" not in html
