"""``config.settings`` plus the changes the benchmark proposes (bench/README.md, "Problems").

Run the benchmark with ``--settings bench.proposed_settings`` to measure them:

* channels_redis pool ``max_connections``: redis-py 8 caps a ConnectionPool at 100
  connections by default and raises ``MaxConnectionsError`` (no waiting) past it;
  channels_redis builds its pool without a cap, so a worker publishing for more than
  100 streams at once, or daphne closing more than 100 websockets at once, fails.
* channels_redis pool ``socket_timeout``: redis-py 8 defaults it to 5 s, the same as
  channels_redis' 5 s ``BZPOPMIN``; an idle ``receive()`` then raises ``TimeoutError``
  after 5 s and daphne closes the websocket whose consumer happened to be receiving.
* ``CONN_MAX_AGE`` from ``PONDER_DB_CONN_MAX_AGE`` (PostgreSQL): Django's docs say to
  disable persistent connections under ASGI, where every request runs in a thread of
  its own; with 60 s, daphne keeps one connection per concurrent request and 100
  simultaneous sends exhaust PostgreSQL's ``max_connections``. The bench starts daphne
  with ``PONDER_DB_CONN_MAX_AGE=0`` and leaves the worker's 8 DB threads persistent.
* a bounded pool per process (``PONDER_DB_POOL_MAX_SIZE``; Django's psycopg pool, needs
  the ``psycopg_pool`` package): even without persistent connections daphne opens one
  connection per in-flight request, so 300 simultaneous sends still exceed 100. The bench
  gives daphne 20 and the worker 10; requests wait for a free connection instead.
"""

import os

from config.settings import *  # noqa: F403
from config.settings import CHANNEL_LAYERS, DATABASES, REDIS_URL

CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [
    {"address": REDIS_URL, "max_connections": 1000, "socket_timeout": 10}
]
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("PONDER_DB_CONN_MAX_AGE", "60"))
    pool_size = int(os.environ.get("PONDER_DB_POOL_MAX_SIZE", "0"))
    try:
        import psycopg_pool  # noqa: F401  (psycopg[pool]; not a dependency yet)
    except ImportError:
        pool_size = 0
    if pool_size:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django requires it with a pool
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": pool_size,
            "timeout": 60,
        }
