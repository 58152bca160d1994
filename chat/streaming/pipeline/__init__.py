"""The worker's side of streaming: from a claimed reply to its stored end.

``runtime`` owns the process's one asyncio loop and hands each reply to ``reply``, which
beats its ``relay`` (events, seq, appends to the bus) and saves through ``store``;
``reaper`` ends the replies of workers that died, ``titles`` names new conversations,
``daily`` runs once-a-day jobs.
"""
