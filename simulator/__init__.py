"""A local Model Studio stand-in: a real HTTP server speaking both wire protocols.

Endpoints (all need ``Authorization: Bearer <anything non-empty>``):

* ``POST /compatible-mode/v1/chat/completions`` — OpenAI-compatible SSE (§3.1).
* ``POST /api/v1/services/aigc/text-generation/generation`` — DashScope SSE (§3.2)
  with ``X-DashScope-SSE: enable``; without it, one JSON body.
* ``POST /api/v1/services/aigc/multimodal-generation/generation`` — the same for
  vision models (Qwen3-VL, QVQ, Qwen3.5), ``message.content`` as a list.
* ``GET /_sim/health``; ``GET /_sim/requests`` (the last 200 requests: path, headers
  with Authorization redacted, body, status, outcome — ``completed``,
  ``client_disconnected``, ``error:<code>``, ``fault:<name>`` — and pieces_sent;
  strings over 4096 characters, such as base64 images, are shortened);
  ``DELETE /_sim/requests`` clears that log and the ``times=`` counters.

Requests are validated against the catalog like the real service: unknown model,
a vision/Qwen3.5 model on the text endpoint ("url error"), ``enable_thinking:
false`` on a thinking-only model, a bad or unsupported ``thinking_budget``,
images for a model without vision, non-streaming calls to streaming-only models.

The reply is deterministic for a prompt: reasoning (when thinking is on; cut at
exactly ``thinking_budget`` pieces), then a markdown answer with CJK and emoji,
one small piece per chunk, ``--rate`` pieces per second (0 = no pacing).

Directives in the last user message steer it; write ``[[sim:key=value ...]]``
anywhere in the text (several allowed, merged; they are stripped from the prompt):

* ``fault=429`` / ``fault=500`` / ``fault=error_body`` / ``fault=401`` — answer
  with that HTTP error (error_body: 400 DataInspectionFailed; 401: InvalidApiKey)
  instead of a stream.
* ``fault=disconnect after=N`` — close the connection after N pieces.
* ``fault=stall after=N seconds=S`` — go silent for S seconds after N pieces.
* ``fault=malformed after=N`` — send a truncated-JSON data line after N pieces
  (then carry on).
* ``fault=stream_error after=N`` — send an in-stream error after N pieces and end
  (OpenAI ``data: {"error": ...}``; DashScope ``event:error`` + ``:HTTP_STATUS/400``).
* ``times=K`` with any fault — only the first K identical requests (same path and
  body) fail; later ones succeed.
* ``retry_after=S`` — add ``Retry-After: S`` to a 429.
* ``rate=R`` — pieces per second for this response.
* ``reasoning_tokens=N`` / ``answer_tokens=N`` — exactly N pieces of each.
* ``reasoning=<b64>`` / ``answer=<b64>`` — stream exactly this text (unpadded
  base64url of UTF-8; ``directives.encode_text`` makes one), split into pieces on
  character boundaries.
* ``split_utf8=1`` — write every chunk that holds a multi-byte character as two
  socket writes split inside that character, with a flush between.

Run it: ``python -m simulator --port 0 --rate 40`` (prints
``SIMULATOR_LISTENING http://127.0.0.1:PORT`` and serves until SIGTERM or SIGINT), or
``SimulatorThread().start()`` in tests. It serves on ``aiohttp.web``, which the
``test`` extra installs.
``--trace-file PATH`` (off by default) appends ``<request id> <piece index> <unix
time>`` for every piece written, flushed when each response ends (``bench/`` uses it).
"""

from simulator.app import Simulator
from simulator.directives import encode_text, parse_directives
from simulator.server import SimulatorThread, main, serve, start_server

__all__ = [
    "Simulator",
    "SimulatorThread",
    "encode_text",
    "main",
    "parse_directives",
    "serve",
    "start_server",
]
