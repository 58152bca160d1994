"""The admin's price form: a model is picked from the catalog, thinking prices by mode."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from chat.admin import model_choices
from chat.models import Message, ModelPrice
from chat.upstream import catalog
from tests.integration.reply_factories import at, make_reply

ADD = "/admin/chat/modelprice/add/"


@pytest.fixture
def admin_client(admin_user, client):
    client.force_login(admin_user)
    return client


def price_form(**overrides) -> dict[str, str]:
    return {
        "model": "qwen-plus",
        "currency": "usd",  # stored upper-case
        "effective_from_0": "2025-03-01",
        "effective_from_1": "00:00:00",
        "input_per_million": "0.4",
        "cached_input_per_million": "",
        "output_per_million": "1.2",
        "thinking_output_per_million": "4",
        **overrides,
    }


def form_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 200
    return response.context["adminform"].form.errors


def test_a_typo_model_is_refused_and_saves_nothing(admin_client):
    response = admin_client.post(ADD, price_form(model="qwen3max"))
    errors = form_errors(response)
    assert errors["model"] == ["qwen3max is not a model in the catalog; pick one from the list."]
    assert not ModelPrice.objects.exists()


def test_the_model_is_a_select_of_the_catalog_grouped_by_family(admin_client):
    page = admin_client.get(ADD).content.decode()
    assert '<select name="model"' in page
    assert 'list="ponder-model-ids"' not in page  # no free text any more
    for model in catalog.MODELS:
        assert f'<option value="{model.id}"' in page
    assert '<optgroup label="QwQ">' in page
    assert "QwQ-Plus (qwq-plus) · always thinks</option>" in page


def test_the_add_form_can_be_filled_in_with_a_model(admin_client):
    form = admin_client.get(f"{ADD}?model=qwq-plus").context["adminform"].form
    assert form["model"].value() == "qwq-plus"
    assert '<option value="qwq-plus" selected>' in str(form["model"])


def test_a_legacy_price_for_an_unknown_model_opens_and_asks_for_a_real_one(admin_client):
    legacy = ModelPrice.objects.create(
        model="qwen3max", input_per_million=1, output_per_million=2, effective_from=at("2025-01-01")
    )
    url = f"/admin/chat/modelprice/{legacy.pk}/change/"
    response = admin_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<option value="qwen3max" selected>qwen3max (not in the catalog)</option>' in page
    warning = "qwen3max&#x27; is not a model in the catalog, so this price prices nothing."
    assert warning in page  # the page's error message
    assert "qwen3max' is not a model in the catalog" in page  # the field's help (not escaped)
    assert "⚠ not in the catalog" in admin_client.get("/admin/chat/modelprice/").content.decode()
    # Saving it as it is is refused; picking a real model fixes it.
    errors = form_errors(admin_client.post(url, price_form(model="qwen3max")))
    assert "qwen3max is not a model in the catalog" in errors["model"][0]
    assert admin_client.post(url, price_form(model="qwen3-max")).status_code == 302
    legacy.refresh_from_db()
    assert legacy.model == "qwen3-max"


def test_a_model_that_never_thinks_takes_no_thinking_price(admin_client, monkeypatch):
    plain = replace(
        catalog.get_model("qwen-turbo"), id="plain-chat", label="Plain", thinking="none"
    )
    monkeypatch.setattr(model_choices, "MODELS", (*catalog.MODELS, plain))
    monkeypatch.setitem(catalog._BY_ID, "plain-chat", plain)
    errors = form_errors(admin_client.post(ADD, price_form(model="plain-chat")))
    assert errors["thinking_output_per_million"] == ["Plain never thinks: leave this empty."]
    response = admin_client.post(
        ADD, price_form(model="plain-chat", thinking_output_per_million="")
    )
    assert response.status_code == 302
    assert ModelPrice.objects.get().thinking_output_per_million is None


def test_models_that_think_take_a_thinking_price_explained_by_their_mode(admin_client):
    assert admin_client.post(ADD, price_form(model="qwq-plus")).status_code == 302
    assert admin_client.post(ADD, price_form(model="qwen-plus")).status_code == 302
    always, hybrid = ModelPrice.objects.order_by("model")
    assert always.thinking_output_per_million == hybrid.thinking_output_per_million == Decimal(4)
    help_of = {}
    for price in (always, hybrid):
        form = admin_client.get(f"/admin/chat/modelprice/{price.pk}/change/").context["adminform"]
        help_of[price.model] = form.form.fields["thinking_output_per_million"].help_text
    assert help_of["qwq-plus"].startswith("QwQ-Plus always thinks: this is the output price")
    assert help_of["qwen-plus"].startswith("Qwen-Plus is hybrid: this is its thinking-mode")
    add_help = admin_client.get(ADD).context["adminform"].form.fields
    assert "billed at the output price" in add_help["thinking_output_per_million"].help_text


def test_admin_sets_a_price_without_recosting_the_past(admin_client, alice):
    old = make_reply(alice, created_at=at("2025-03-05"), input_tokens=1000)
    response = admin_client.post("/admin/chat/modelprice/add/", price_form())
    assert response.status_code == 302
    price = ModelPrice.objects.get()
    assert price.currency == "USD"
    assert price.thinking_output_per_million == Decimal("4")
    assert price.cached_input_per_million is None
    assert Message.objects.get(id=old.id).cost is None  # only a re-cost changes stored costs


def test_price_form_rejects_negative_prices_and_bad_currencies(admin_client):
    response = admin_client.post(
        "/admin/chat/modelprice/add/", price_form(currency="U5D", output_per_million="-1")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "three-letter" in errors["currency"][0]
    assert "negative" in errors["output_per_million"][0]
    assert not ModelPrice.objects.exists()


def test_saving_a_price_offers_to_recost_from_its_day_to_today(admin_client):
    response = admin_client.post(ADD, price_form(model="qwq-plus"), follow=True)
    page = response.content.decode()
    offer = "/admin/chat/modelprice/recost/?start=2025-03-01&amp;end="
    assert offer in page and "model=qwq-plus" in page
    assert "Re-cost qwq-plus from 2025-03-01 to today" in page


def test_a_price_from_a_future_day_offers_no_recost(admin_client):
    response = admin_client.post(ADD, price_form(effective_from_0="2999-01-01"), follow=True)
    assert "price-recost-offer" not in response.content.decode()
