"""Streaming a reply, from the upstream to every socket that follows it.

``pipeline`` runs in the Celery worker: the runtime's loop, one reply's life, the relay
(coalescing, seq numbers, at-least-once appends), the store (claim, progress, finish),
the reaper, titles and daily jobs. ``delivery`` runs in the web process: the live feed
(one XREAD loop) and the websocket consumer. What both sides share sits here: ``bus``
(every ``ponder:*`` Redis key and the append script), ``events`` (the websocket shapes)
and ``errortext`` (stored errors in the reader's language).

Never imports ``chat.tasks``: what the pipeline needs from the task layer arrives as
callbacks.
"""
