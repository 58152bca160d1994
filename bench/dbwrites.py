"""Count row writes to the chat tables with database triggers in the bench's own database.

An ``AFTER INSERT``/``AFTER UPDATE`` row trigger on ``chat_message`` and
``chat_conversation`` appends ``(table, operation, row id)`` to ``bench_writes``. It sees
every write by every process (daphne's inserts, the worker's claim, progress saves and
final update), costs one small insert per counted write, and needs no change to Ponder.
Only the benchmark's private database gets the triggers (or the one ``DATABASE_URL``
names, which should be a throwaway database).
"""

from __future__ import annotations

from collections import Counter

from django.db import connection

TABLES = ("chat_message", "chat_conversation")

_SQLITE = [
    "CREATE TABLE IF NOT EXISTS bench_writes (tbl TEXT NOT NULL, op TEXT NOT NULL, row_id TEXT NOT NULL)",
    *(
        f"CREATE TRIGGER IF NOT EXISTS bench_{table}_{op.lower()} AFTER {op} ON {table} "
        f"BEGIN INSERT INTO bench_writes VALUES ('{table}', '{op}', NEW.id); END"
        for table in TABLES
        for op in ("INSERT", "UPDATE")
    ),
]

_POSTGRES = [
    "CREATE TABLE IF NOT EXISTS bench_writes (tbl text NOT NULL, op text NOT NULL, row_id text NOT NULL)",
    """CREATE OR REPLACE FUNCTION bench_log_write() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN INSERT INTO bench_writes VALUES (TG_TABLE_NAME, TG_OP, NEW.id::text); RETURN NULL; END
       $$""",
    *(
        f"CREATE OR REPLACE TRIGGER bench_{table}_writes AFTER INSERT OR UPDATE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION bench_log_write()"
        for table in TABLES
    ),
]


def install() -> None:
    statements = _POSTGRES if connection.vendor == "postgresql" else _SQLITE
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_writes")


def row_key(uuid_value) -> str:
    """How a UUID primary key appears in ``bench_writes`` (SQLite stores 32 hex digits)."""
    return str(uuid_value) if connection.vendor == "postgresql" else uuid_value.hex


def counts() -> Counter[tuple[str, str, str]]:
    """Return {(table, operation, row id): writes} since the last reset."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tbl, op, row_id, COUNT(*) FROM bench_writes GROUP BY tbl, op, row_id"
        )
        return Counter({(tbl, op, row_id): n for tbl, op, row_id, n in cursor.fetchall()})
