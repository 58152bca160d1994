"""/admin/spend/ and /admin/spend.csv: grouping, totals, currencies, unpriced, access."""

from __future__ import annotations

import csv
import io

import pytest

from accounts.models import User
from chat.models import Message
from tests.factories import make_user
from tests.integration.reply_factories import at, make_reply

# The contract's columns, in order, then how many requests' usage was estimated.
CSV_HEADER = (
    "group,requests,input_tokens,output_tokens,reasoning_tokens,cached_tokens,cost,"
    "estimated_requests"
)
RANGE = "start=2025-03-01&end=2025-03-31"


@pytest.fixture
def admin_client(admin_user, client):
    client.force_login(admin_user)
    return client


@pytest.fixture
def march(alice, bob):
    """Five finished replies and one still streaming, in March 2025, plus one in April."""
    make_reply(
        alice,
        model="qwen-plus",
        created_at=at("2025-03-01", 0),
        input_tokens=100,
        output_tokens=50,
        reasoning_tokens=30,
        cached_tokens=10,
        cost="0.000100",
    )
    make_reply(
        alice,
        model="qwen-plus",
        created_at=at("2025-03-01", 23),
        input_tokens=200,
        output_tokens=20,
        cost="0.000200",
    )
    make_reply(
        alice,
        model="qwq-plus",
        created_at=at("2025-03-02"),
        input_tokens=300,
        output_tokens=400,
        reasoning_tokens=350,
    )  # unpriced
    make_reply(
        bob,
        model="qwen-plus",
        created_at=at("2025-03-02"),
        input_tokens=1000,
        output_tokens=100,
        cost="0.001000",
        status=Message.Status.CANCELLED,
    )
    make_reply(
        bob,
        model="qwen-plus",
        created_at=at("2025-03-31", 23),
        input_tokens=10,
        output_tokens=10,
        cost="0.500000",
        currency="CNY",
    )
    make_reply(
        bob,
        model="qwen-plus",
        created_at=at("2025-03-15"),
        input_tokens=999,
        status=Message.Status.STREAMING,
    )  # not finished: not a request yet
    make_reply(
        alice, model="qwen-plus", created_at=at("2025-04-01", 0), input_tokens=5000, cost="9.000000"
    )  # outside the range
    # fmt: skip


def rows_of(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_csv_by_day_has_the_contract_header_and_one_row_per_active_day(admin_client, march):
    response = admin_client.get(f"/admin/spend.csv?{RANGE}&group_by=day")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode().splitlines()[0] == CSV_HEADER
    assert rows_of(response) == [
        {"group": "2025-03-01", "requests": "2", "input_tokens": "300", "output_tokens": "70",
         "reasoning_tokens": "30", "cached_tokens": "10", "cost": "0.000300", "estimated_requests": "0"},
        {"group": "2025-03-02", "requests": "2", "input_tokens": "1300", "output_tokens": "500",
         "reasoning_tokens": "350", "cached_tokens": "0", "cost": "0.001000", "estimated_requests": "0"},
        {"group": "2025-03-31", "requests": "1", "input_tokens": "10", "output_tokens": "10",
         "reasoning_tokens": "0", "cached_tokens": "0", "cost": "0.500000", "estimated_requests": "0"},
    ]  # fmt: skip


def test_csv_by_user_sums_costs_per_currency(admin_client, march):
    rows = rows_of(admin_client.get(f"/admin/spend.csv?{RANGE}&group_by=user"))
    assert [(r["group"], r["requests"], r["input_tokens"], r["cost"]) for r in rows] == [
        ("bob", "2", "1010", "0.500000 CNY; 0.001000 USD"),
        ("alice", "3", "600", "0.000300"),
    ]


def test_csv_by_model_leaves_the_cost_of_an_unpriced_model_empty(admin_client, march):
    rows = rows_of(admin_client.get(f"/admin/spend.csv?{RANGE}&group_by=model"))
    assert [(r["group"], r["requests"], r["output_tokens"], r["cost"]) for r in rows] == [
        ("qwen-plus", "4", "180", "0.500000 CNY; 0.001300 USD"),
        ("qwq-plus", "1", "400", ""),
    ]


def test_report_shows_totals_and_flags_unpriced_requests(admin_client, march):
    response = admin_client.get(f"/admin/spend/?{RANGE}&group_by=model")
    assert response.status_code == 200
    report = response.context["report"]
    totals = report.totals
    assert (totals.requests, totals.input_tokens, totals.output_tokens) == (5, 1610, 580)
    assert (totals.reasoning_tokens, totals.cached_tokens) == (380, 10)
    assert {c: str(a) for c, a in totals.costs.items()} == {"USD": "0.001300", "CNY": "0.500000"}
    assert totals.unpriced_requests == 1
    assert [row.key for row in report.unpriced_models] == ["qwq-plus"]
    page = response.content.decode()
    assert 'data-testid="spend-unpriced"' in page
    assert "/admin/chat/modelprice/add/?model=qwq-plus" in page
    recost = "/admin/chat/modelprice/recost/?start=2025-03-01&amp;end=2025-03-31"
    assert f'href="{recost}" data-testid="spend-recost"' in page
    assert "manage.py" not in page
    assert 'id="spend-chart-data"' in page
    assert "<script>" not in page  # CSP: data only, no inline script


def test_report_charts_cover_every_day_of_the_range(admin_client, march):
    response = admin_client.get("/admin/spend/?start=2025-03-01&end=2025-03-03&group_by=user")
    data = response.context["chart_data"]
    assert data["days"] == ["2025-03-01", "2025-03-02", "2025-03-03"]
    assert data["tokens"]["reasoning"] == [30, 350, 0]
    assert data["tokens"]["cached"] == [10, 0, 0]
    assert data["tokens"]["input"] == [290, 1300, 0]
    assert data["tokens"]["answer"] == [40, 150, 0]
    assert data["cost"] == {"USD": ["0.000300", "0.001000", "0"]}
    assert data["models"] == [
        {"model": "qwen-plus", "tokens": 1470},
        {"model": "qwq-plus", "tokens": 700},
    ]


def test_report_defaults_to_the_last_30_days_by_day(admin_client):
    response = admin_client.get("/admin/spend/")
    assert response.status_code == 200
    query = response.context["query"]
    assert query.group_by == "day"
    assert (query.end - query.start).days == 29
    page = response.content.decode()
    assert "No finished replies in this range." in page
    csv_link = f"/admin/spend.csv?start={query.start}&amp;end={query.end}&amp;group_by=day"
    assert csv_link in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ("group_by=team", "group_by must be one of user, model, day"),
        ("start=2025-02-30", "The first day must be a date written YYYY-MM-DD"),
        ("end=yesterday", "The last day must be a date written YYYY-MM-DD"),
        ("start=2025-03-02&end=2025-03-01", "is after end"),
        ("start=1990-01-01&end=2025-01-01", "longer than"),
    ],
)
def test_invalid_parameters_are_a_400_with_a_clear_message(admin_client, params, message):
    page = admin_client.get(f"/admin/spend/?{params}")
    assert page.status_code == 400
    assert message in page.content.decode()
    csv_response = admin_client.get(f"/admin/spend.csv?{params}")
    assert csv_response.status_code == 400
    assert message in csv_response.content.decode()


@pytest.mark.parametrize("path", ["/admin/spend/", "/admin/spend.csv"])
def test_non_staff_are_sent_to_the_admin_login(alice_client, path):
    response = alice_client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


@pytest.mark.parametrize("path", ["/admin/spend/", "/admin/spend.csv"])
def test_anonymous_visitors_are_sent_to_the_admin_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_superuser_can_read_the_report(client, db):
    client.force_login(make_user("dora", is_staff=True))
    assert client.get("/admin/spend.csv").status_code == 200


def test_spend_is_aggregated_in_a_fixed_number_of_queries(
    admin_client, march, django_assert_max_num_queries
):
    # Many users, so a per-row query would show (bulk_create: no password hashing).
    for user in User.objects.bulk_create([User(username=f"user{n}") for n in range(20)]):
        make_reply(user, created_at=at("2025-03-10"), input_tokens=1)
    # Each grouping is two queries (replies, then titles), whatever the number of rows.
    with django_assert_max_num_queries(11):
        assert admin_client.get(f"/admin/spend/?{RANGE}&group_by=user").status_code == 200
    with django_assert_max_num_queries(5):
        assert admin_client.get(f"/admin/spend.csv?{RANGE}&group_by=user").status_code == 200


def test_estimated_usage_is_marked_and_refused_replies_are_not_requests(admin_client, alice):
    make_reply(alice, created_at=at("2025-03-05"), input_tokens=50, output_tokens=20)
    estimated = make_reply(alice, created_at=at("2025-03-05"), input_tokens=40, output_tokens=9)
    Message.objects.filter(id=estimated.id).update(usage_estimated=True)
    make_reply(alice, created_at=at("2025-03-05"), status=Message.Status.FAILED)  # 0 tokens
    rows = rows_of(admin_client.get(f"/admin/spend.csv?{RANGE}&group_by=user"))
    assert [(r["group"], r["requests"], r["estimated_requests"]) for r in rows] == [
        ("alice", "2", "1")
    ]
    page = admin_client.get(f"/admin/spend/?{RANGE}&group_by=user").content.decode()
    assert "≈ 1" in page
