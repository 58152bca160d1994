"""The faults report: run the fault-injection suite and write what each fault did.

``python -m bench.faults [--postgres URL]`` runs ``tests/faults`` (real Redis, workers,
daphne and the simulator; each fault injected mid-stream into several thinking replies)
and writes ``bench/FAULTS.md``: fault → streams intact / total, on the database used.
A stream is intact when the client following the websocket protocol received its
terminal status without reloading, nothing after it, and exactly the stored text.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = ROOT / "var" / "test-logs" / "faults.txt"
REPORT = ROOT / "bench" / "FAULTS.md"


def run_suite(env: dict[str, str]) -> int:
    SUMMARY.unlink(missing_ok=True)
    command = [sys.executable, "-m", "ponder_run", "test", "-q", "-p", "no:cacheprovider",
               "tests/faults"]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def table(lines: list[str]) -> str:
    rows = ["| fault | database | intact / total | client saw | seconds |", "|---|---|---|---|---|"]
    for line in lines:
        fault, _, rest = line.partition(" → ")
        fault, _, database = fault.rpartition(" [")
        counts, _, tail = rest.partition(" ")
        seen = tail[tail.find("[client: ") + 9 : tail.find("]")] if "[client:" in tail else ""
        seconds = tail[tail.rfind("(") + 1 : tail.rfind(" s)")]
        rows.append(f"| {fault} | {database.rstrip(']')} | {counts} | {seen} | {seconds} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults")
    parser.add_argument("--postgres", help="also run on this (throwaway) PostgreSQL database")
    args = parser.parse_args()
    runs = [dict(os.environ)]
    if args.postgres:
        runs.append({**os.environ, "DATABASE_URL": args.postgres})
    lines: list[str] = []
    status = 0
    for env in runs:
        status |= run_suite(env)
        lines += SUMMARY.read_text().splitlines() if SUMMARY.exists() else []
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    REPORT.write_text(
        "# Faults report\n\n"
        f"`python -m bench.faults` on {when}, exit status {status}. Each fault is injected "
        "mid-stream into several live thinking replies; *intact* means the client following "
        "the websocket protocol got the terminal status without reloading, nothing after it, "
        "and exactly the stored text (`tests/faults/`).\n\n" + table(lines) + "\n"
    )
    print(REPORT.read_text())
    return status


if __name__ == "__main__":
    sys.exit(main())
