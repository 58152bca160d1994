"""A group's policy in the browser: the picker offers only its models, the budget input
stops at its cap, and the sidebar shows what is left of the money budget."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def in_support_group(username):
    """Put the user in a group with a policy, before the browser starts."""
    from django.contrib.auth.models import Group

    from accounts.models import GroupPolicy, User

    group = Group.objects.create(name="Support")
    GroupPolicy.objects.create(
        group=group,
        allowed_models=["qwen-plus", "qwq-plus"],
        max_thinking_budget=3000,
        member_monthly_budget=Decimal("40.00"),
    )
    User.objects.get(username=username).groups.add(group)


def test_the_picker_budget_input_and_sidebar_follow_the_groups_policy(in_support_group, chat):
    options = chat.get_by_test_id("model-select").locator("option")
    expect(options).to_have_count(2)
    assert sorted(options.evaluate_all("(els) => els.map((el) => el.value)")) == [
        "qwen-plus",
        "qwq-plus",
    ]
    chat.get_by_test_id("model-select").select_option("qwen-plus")
    chat.get_by_test_id("thinking-toggle").set_checked(True, force=True)  # a styled switch
    expect(chat.get_by_test_id("thinking-budget")).to_have_attribute("max", "3000")
    expect(chat.locator("[data-quota-text]")).to_contain_text("$40.00 of $40.00 left")
