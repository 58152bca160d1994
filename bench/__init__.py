"""Load and latency benchmarks of Ponder's streaming pipeline (see bench/README.md).

``python -m bench.streams`` starts a private stack (Redis, the simulator, daphne, one
Celery worker) in a temporary directory and drives N concurrent streams through it.
"""
