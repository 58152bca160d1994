"""The admin's "Re-cost a range": a dry-run preview, then confirm; staff with rights only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from chat.models import AuditEntry, Message, ModelPrice, TitleUsage
from tests.factories import make_user
from tests.integration.reply_factories import at, make_reply

RECOST = "/admin/chat/modelprice/recost/"
MARCH = {"start": "2025-03-01", "end": "2025-03-31", "model": "qwen-plus"}


@pytest.fixture
def admin_client(admin_user, client):
    client.force_login(admin_user)
    return client


@pytest.fixture
def march(alice):
    """qwen-plus priced from January; replies and titles in and around March."""
    ModelPrice.objects.create(
        model="qwen-plus",
        input_per_million=1,
        output_per_million=2,
        effective_from=at("2025-01-01"),
    )
    inside = make_reply(alice, created_at=at("2025-03-10"), input_tokens=1000, output_tokens=500)
    return {
        "inside": inside,
        "already_right": make_reply(alice, created_at=at("2025-03-11"), input_tokens=1000,
                                    cost="0.001000"),
        "before": make_reply(alice, created_at=at("2025-02-28", 23), input_tokens=1000),
        "other_model": make_reply(alice, model="qwq-plus", created_at=at("2025-03-10"),
                                  input_tokens=1000, cost="9.000000"),
        "title": TitleUsage.objects.create(conversation=inside.conversation, model="qwen-plus",
                                           created_at=at("2025-03-10"), input_tokens=500),
        "other_title": TitleUsage.objects.create(conversation=inside.conversation,
                                                 model="qwen-flash", created_at=at("2025-03-10"),
                                                 input_tokens=500, cost="1.000000",
                                                 cost_currency="USD"),
    }  # fmt: skip


def costs(rows: dict) -> dict[str, Decimal | None]:
    for row in rows.values():
        row.refresh_from_db()
    return {name: row.cost for name, row in rows.items()}


UNTOUCHED = {
    "inside": None,
    "already_right": Decimal("0.001000"),
    "before": None,
    "other_model": Decimal("9.000000"),
    "title": None,
    "other_title": Decimal("1.000000"),
}


def test_the_form_is_filled_in_from_the_query(admin_client):
    response = admin_client.get(f"{RECOST}?start=2025-03-01&end=2025-03-31&model=qwq-plus")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="recost-form"' in page
    assert 'name="start" value="2025-03-01"' in page
    assert '<option value="qwq-plus" selected>' in page
    assert 'data-testid="recost-preview"' not in page


def test_a_dry_run_shows_what_would_change_and_writes_nothing(admin_client, march):
    response = admin_client.post(RECOST, MARCH)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.replies.seen, preview.replies.changed, preview.replies.unpriced) == (2, 1, 0)
    assert (preview.titles.seen, preview.titles.changed) == (1, 1)
    # 1000 × 1 + 500 × 2 for the reply, 500 × 1 for the title, per million.
    assert preview.difference == {"USD": Decimal("0.002500")}
    page = response.content.decode()
    assert 'data-testid="recost-preview"' in page and "+0.002500 USD" in page
    assert 'data-testid="recost-confirm"' in page and 'value="Re-cost 2"' in page
    assert costs(march) == UNTOUCHED
    assert not AuditEntry.objects.filter(target_type="recost").exists()


def test_confirming_recosts_replies_and_titles_of_the_range_and_model_only(admin_client, march):
    response = admin_client.post(RECOST, {**MARCH, "confirm": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/spend/?start=2025-03-01&end=2025-03-31&group_by=model"
    assert costs(march) == {
        **UNTOUCHED,
        "inside": Decimal("0.002000"),
        "title": Decimal("0.000500"),
    }
    assert Message.objects.get(id=march["inside"].id).cost_currency == "USD"
    (entry,) = AuditEntry.objects.filter(target_type="recost")
    assert (entry.action, entry.actor, entry.target_type) == ("price_changed", "charlie", "recost")
    assert entry.detail == {
        "start": "2025-03-01",
        "end": "2025-03-31",
        "model": "qwen-plus",
        "changed": {"replies": 1, "titles": 1},
        "difference": {"USD": "0.002500"},
    }
    page = admin_client.get(response["Location"]).content.decode()
    assert "1 replies and 1 generated titles changed cost" in page


def test_all_models_recosts_every_model_in_the_range(admin_client, march):
    response = admin_client.post(RECOST, {**MARCH, "model": "", "confirm": "1"})
    assert response.status_code == 302
    after = costs(march)
    assert (after["other_model"], after["other_title"]) == (None, None)  # no price: unpriced
    assert after["before"] is None
    assert AuditEntry.objects.get(target_type="recost").detail["model"] == ""


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({**MARCH, "start": "2025-04-01"}, "end", "The last day is before the first."),
        ({**MARCH, "model": "qwen3max"}, "model", "qwen3max is not a model in the catalog"),
        ({**MARCH, "start": "March"}, "start", "Enter a valid date."),
    ],
)
def test_a_bad_range_is_refused_and_changes_nothing(admin_client, march, data, field, message):
    response = admin_client.post(RECOST, {**data, "confirm": "1"})
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    assert costs(march) == UNTOUCHED


def test_non_staff_are_sent_to_the_login_page(alice_client, march):
    response = alice_client.post(RECOST, {**MARCH, "confirm": "1"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert costs(march) == UNTOUCHED


def test_staff_who_may_not_change_prices_are_refused(client, march):
    dora = make_user("dora", is_staff=True)
    client.force_login(dora)
    assert client.post(RECOST, {**MARCH, "confirm": "1"}).status_code == 403
    assert costs(march) == UNTOUCHED
    dora.user_permissions.add(Permission.objects.get(codename="change_modelprice"))
    client.force_login(dora)
    assert client.post(RECOST, {**MARCH, "confirm": "1"}).status_code == 302


def test_the_price_list_links_to_the_recost_form(admin_client):
    page = admin_client.get("/admin/chat/modelprice/").content.decode()
    assert f'<a href="{RECOST}" data-testid="price-recost-link">Re-cost a range</a>' in page
