"""Spend-report benchmark: seed a million messages, time the report's queries.

    python -m bench.spend                       # PostgreSQL scratch database, 1,000,000 messages
    python -m bench.spend --messages 200000 --keep
    python -m bench.spend --database-url sqlite:////tmp/spend.sqlite3 --messages 100000

On PostgreSQL (the default, ``postgres://postgres@127.0.0.1:5432``) it creates a
throwaway database ``ponder_bench_spend_<pid>``, migrates it, fills it with
``generate_series`` in one statement, runs ``VACUUM ANALYZE`` and drops the database at
the end (unless ``--keep``). Elsewhere it seeds with ``bulk_create`` in batches.

Half the messages are user turns and half assistant replies, spread evenly over
``--months`` months ending now; replies cycle through six models (one unpriced),
one in 50 failed, one in 40 cancelled. It then times ``chat.spend.spend_rows`` for
each ``group_by`` over the last whole month and over the whole span, plus the full
report page (the grouping and the two chart series), and prints the plan of the
``day`` query. Timings are the median of ``--repeat`` warm runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
MODELS = ("qwen-plus", "qwen3-max", "qwq-plus", "deepseek-r1", "kimi-k2-thinking", "qvq-max")
UNPRICED = "qvq-max"
USERS = 200
CONVERSATIONS = 20_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spend", description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help=f"default: a scratch database on {DEFAULT_SERVER}")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--no-seed", action="store_true", help="time the data already in --database-url"
    )
    args = parser.parse_args(argv)

    url, scratch = args.database_url, None
    if url is None:
        scratch = f"ponder_bench_spend_{os.getpid()}"
        url = f"{DEFAULT_SERVER}/{scratch}"
        admin_sql(f'CREATE DATABASE "{scratch}"')
    try:
        run(url, args)
    finally:
        if scratch and not args.keep:
            from django.db import connections

            connections.close_all()
            admin_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        elif scratch:
            print(f"kept database {url}")
    return 0


def admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{DEFAULT_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def run(url: str, args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    now = datetime.now(tz=UTC).replace(microsecond=0)
    since = now - timedelta(days=30 * args.months)
    if args.no_seed:
        from django.db.models import Max, Min

        from chat.models import Message

        span = Message.objects.aggregate(since=Min("created_at"), now=Max("created_at"))
        since, now = span["since"], span["now"]
    else:
        started = time.perf_counter()
        seed(args.messages, since, now)
        print(f"seeded {args.messages:,} messages in {time.perf_counter() - started:.1f} s")
    report(now, since, args.repeat)


# --- Seeding ----------------------------------------------------------------------------


def seed(messages: int, since: datetime, until: datetime) -> None:
    from django.db import connection

    from accounts.models import User
    from chat.models import Conversation

    users = User.objects.bulk_create(
        [User(username=f"bench{n:03d}", password="!") for n in range(USERS)]
    )
    Conversation.objects.bulk_create(
        [
            Conversation(owner=users[n % USERS], title=f"Bench {n}", created_at=since)
            for n in range(CONVERSATIONS)
        ],
        batch_size=5000,
    )
    if connection.vendor == "postgresql":
        seed_postgresql(messages, since, until)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE chat_message")
            cursor.execute("VACUUM ANALYZE chat_conversation")
    else:
        seed_in_batches(messages, since, until)


def reply_usage(n: int) -> dict[str, Any]:
    """Return the usage, status and cost of reply ``n`` (the same rule as the SQL below)."""
    from decimal import Decimal

    model = MODELS[n % len(MODELS)]
    input_tokens = 50 + (n * 7919) % 4000
    reasoning = (n * 104729) % 3000 if n % 3 else 0
    output = reasoning + 20 + (n * 1301) % 1500
    cached = input_tokens // 2 if n % 5 == 0 else 0
    status = "failed" if n % 50 == 0 else "cancelled" if n % 40 == 0 else "complete"
    rate = Decimal("4") if reasoning else Decimal("1.2")
    cost = None
    if model != UNPRICED:
        cost = ((input_tokens * Decimal("0.4") + output * rate) / 1_000_000).quantize(
            Decimal("0.000001")
        )
    return {
        "model": model,
        "input_tokens": input_tokens,
        "output_tokens": output,
        "reasoning_tokens": reasoning,
        "cached_tokens": cached,
        "total_tokens": input_tokens + output,
        "status": status,
        "cost": cost,
        "cost_currency": "" if cost is None else "USD",
    }


SEED_SQL = """
WITH conversations AS (SELECT array_agg(id ORDER BY id) AS ids FROM chat_conversation),
pairs AS (
    SELECT n,
           ids[1 + n %% array_length(ids, 1)] AS conversation_id,
           %(since)s::timestamptz + (%(until)s::timestamptz - %(since)s::timestamptz)
               * (n::float8 / %(pairs)s) AS at,
           (%(models)s::text[])[1 + n %% %(model_count)s] AS model,
           50 + (n * 7919) %% 4000 AS input_tokens,
           CASE WHEN n %% 3 <> 0 THEN (n * 104729) %% 3000 ELSE 0 END AS reasoning_tokens,
           20 + (n * 1301) %% 1500 AS answer_tokens
    FROM generate_series(1::bigint, %(pairs)s) AS n, conversations
),
rows AS (
    SELECT gen_random_uuid() AS id, conversation_id, 'user' AS role, '' AS model,
           'complete' AS status, 0 AS input_tokens, 0 AS output_tokens,
           0 AS reasoning_tokens, 0 AS cached_tokens, NULL::numeric AS cost,
           '' AS cost_currency, at AS created_at, 'A question to think about.' AS content
    FROM pairs
    UNION ALL
    SELECT gen_random_uuid(), conversation_id, 'assistant', model,
           CASE WHEN n %% 50 = 0 THEN 'failed' WHEN n %% 40 = 0 THEN 'cancelled'
                ELSE 'complete' END,
           input_tokens, reasoning_tokens + answer_tokens, reasoning_tokens,
           CASE WHEN n %% 5 = 0 THEN input_tokens / 2 ELSE 0 END,
           CASE WHEN model = %(unpriced)s THEN NULL ELSE round(
               (input_tokens * 0.4 + (reasoning_tokens + answer_tokens)
                * CASE WHEN reasoning_tokens > 0 THEN 4 ELSE 1.2 END) / 1000000, 6) END,
           CASE WHEN model = %(unpriced)s THEN '' ELSE 'USD' END,
           at + interval '1 millisecond', 'An answer, after some thought.'
    FROM pairs
)
INSERT INTO chat_message ({columns})
SELECT {values} FROM rows
"""

SEEDED = (
    "id", "conversation_id", "role", "model", "status", "input_tokens", "output_tokens",
    "reasoning_tokens", "cached_tokens", "cost", "cost_currency", "created_at", "content",
)  # fmt: skip


def seed_postgresql(messages: int, since: datetime, until: datetime) -> None:
    """Insert every message in one ``INSERT … SELECT`` over ``generate_series``.

    Columns the seed does not set get their model default, so fields added later
    (by other features) do not break the benchmark.
    """
    from django.db import connection

    from chat.models import Message

    columns, values, params = [], [], {}
    for field in Message._meta.concrete_fields:
        columns.append(connection.ops.quote_name(field.column))
        if field.column in SEEDED:
            values.append(field.column)
        elif field.column == "total_tokens":
            values.append("input_tokens + output_tokens")
        else:
            name = f"default_{field.column}"
            default = field.get_default() if field.has_default() or field.null else ""
            params[name] = field.get_db_prep_save(default, connection)
            values.append(f"%({name})s")
    sql = SEED_SQL.format(columns=", ".join(columns), values=", ".join(values))
    params.update(
        since=since,
        until=until,
        pairs=messages // 2,
        models=list(MODELS),
        model_count=len(MODELS),
        unpriced=UNPRICED,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def seed_in_batches(messages: int, since: datetime, until: datetime, batch: int = 5000) -> None:
    from chat.models import Conversation, Message

    conversation_ids = list(Conversation.objects.order_by("id").values_list("id", flat=True))
    pairs = messages // 2
    span = until - since
    rows: list[Message] = []
    for n in range(1, pairs + 1):
        at = since + span * (n / pairs)
        conversation_id = conversation_ids[n % len(conversation_ids)]
        rows.append(
            Message(
                id=uuid.uuid4(), conversation_id=conversation_id, role="user",
                content="A question to think about.", created_at=at,
            )
        )  # fmt: skip
        rows.append(
            Message(
                id=uuid.uuid4(), conversation_id=conversation_id, role="assistant",
                content="An answer, after some thought.",
                created_at=at + timedelta(milliseconds=1), **reply_usage(n),
            )
        )  # fmt: skip
        if len(rows) >= batch:
            Message.objects.bulk_create(rows)
            rows = []
    Message.objects.bulk_create(rows)


# --- Timing -------------------------------------------------------------------------------


def timed(fn, repeat: int) -> tuple[float, Any]:
    """Return the median wall time of ``repeat`` runs after one warm-up, in ms."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def report(now: datetime, since: datetime, repeat: int) -> None:
    from django.db import connection
    from django.db.models import Count, Sum
    from django.db.models.functions import TruncDate

    from chat.spend.report import GROUPS, SpendQuery, finished_replies, spend_rows
    from chat.spend.views import build_report

    last_month_end = now.date().replace(day=1) - timedelta(days=1)
    ranges = {
        "last month": SpendQuery(last_month_end.replace(day=1), last_month_end),
        "whole span": SpendQuery(since.date(), now.date()),
    }
    print(
        f"\n{'range':<12} {'group_by':<9} {'replies':>9} {'groups':>7} {'rows ms':>9} {'page ms':>9}"
    )
    for label, base in ranges.items():
        replies = finished_replies(base).count()
        for group_by in GROUPS:
            query = SpendQuery(base.start, base.end, group_by)
            rows_ms, rows = timed(lambda q=query: spend_rows(q), repeat)
            page_ms, _ = timed(lambda q=query: build_report(q), repeat)
            print(
                f"{label:<12} {group_by:<9} {replies:>9,} {len(rows):>7} "
                f"{rows_ms:>9.1f} {page_ms:>9.1f}"
            )
    if connection.vendor == "postgresql":
        month = ranges["last month"]
        print("\nplan of the day query over last month:")
        day_query = (
            finished_replies(month)
            .annotate(key=TruncDate("created_at", tzinfo=UTC))
            .values("key", "cost_currency")
            .annotate(n=Count("pk"), tokens=Sum("input_tokens"), cost_sum=Sum("cost"))
            .order_by()
        )
        print(day_query.explain(analyze=True))


if __name__ == "__main__":
    sys.exit(main())
