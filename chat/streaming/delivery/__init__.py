"""The web process's side of streaming: ``live`` reads the live streams its sockets follow
(one blocking XREAD per process), ``consumer`` is the websocket (resume, gap filling,
snapshots).
"""
