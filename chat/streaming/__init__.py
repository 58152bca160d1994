"""Streaming a reply: the worker runtime, the relay (coalescing, seq numbers), the store
(claim, progress, finish), the Redis bus, the reaper, titles and the websocket consumer.

Never imports ``chat.tasks``: what it needs from the task layer arrives as callbacks.
"""
