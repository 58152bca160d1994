"""Talking to Alibaba Cloud Model Studio: plain Python and httpx, never Django.

``UpstreamClient(config).stream(ChatRequest(...))`` yields ``StreamEvent``s for
either wire protocol; ``catalog`` says what each model supports; ``errors`` maps
failures to typed, user-readable errors. ``protocols`` holds the two wire formats and
``transport`` the HTTP, SSE and JSON underneath. The top-level ``simulator`` package is
a local stand-in server for development and tests.
"""

from chat.upstream.catalog import (
    MODELS,
    InvalidRequest,
    ModelInfo,
    get_model,
    resolve_thinking,
)
from chat.upstream.client import UpstreamClient
from chat.upstream.errors import (
    AuthenticationError,
    ConnectionLost,
    ContentRejected,
    ModelNotFound,
    PermissionDenied,
    ProtocolError,
    RateLimited,
    RequestRejected,
    ServerError,
    UpstreamError,
    UpstreamTimeout,
)
from chat.upstream.events import StreamEvent, Usage
from chat.upstream.request import ChatRequest, ChatTurn, UpstreamConfig
from chat.upstream.tokens import estimate_tokens, estimate_usage

__all__ = [
    "MODELS",
    "AuthenticationError",
    "ChatRequest",
    "ChatTurn",
    "ConnectionLost",
    "ContentRejected",
    "InvalidRequest",
    "ModelInfo",
    "ModelNotFound",
    "PermissionDenied",
    "ProtocolError",
    "RateLimited",
    "RequestRejected",
    "ServerError",
    "StreamEvent",
    "UpstreamClient",
    "UpstreamConfig",
    "UpstreamError",
    "UpstreamTimeout",
    "Usage",
    "estimate_tokens",
    "estimate_usage",
    "get_model",
    "resolve_thinking",
]
