"""Values that describe one upstream request and where to send it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Protocol = Literal["openai", "dashscope"]

OPENAI_PATH = "/compatible-mode/v1/chat/completions"
DASHSCOPE_TEXT_PATH = "/api/v1/services/aigc/text-generation/generation"
DASHSCOPE_MULTIMODAL_PATH = "/api/v1/services/aigc/multimodal-generation/generation"

# Samples give base URLs with these API roots; accept them and keep scheme + host.
_API_ROOTS = ("/compatible-mode/v1", "/api/v1")


@dataclass(frozen=True, slots=True)
class ChatTurn:
    """One message of the conversation sent upstream."""

    role: Literal["system", "user", "assistant"]
    content: str
    reasoning: str = ""  # only sent when the model's echo_reasoning is True
    images: tuple[str, ...] = ()  # data: or https: URLs, for user turns of vision models
    # Frames of one video, in order (data: or https: URLs), sent as a single video part.
    video_frames: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A streaming chat completion request, independent of the wire protocol."""

    model: str
    messages: tuple[ChatTurn, ...]
    enable_thinking: bool | None = None  # None: the field is not sent
    thinking_budget: int | None = None


@dataclass(frozen=True, slots=True)
class UpstreamConfig:
    """Where and how to reach Model Studio."""

    base_url: str  # scheme + host, e.g. "https://dashscope-intl.aliyuncs.com"
    api_key: str
    protocol: Protocol = "openai"
    connect_timeout: float = 10.0
    read_timeout: float = 300.0  # max silence between chunks, not a total
    max_retries: int = 3  # only before the first byte of a stream
    retry_backoff: float = 0.5  # base seconds, exponential with jitter

    def __post_init__(self) -> None:
        if self.protocol not in ("openai", "dashscope"):
            raise ValueError(f"protocol must be 'openai' or 'dashscope', not {self.protocol!r}")

    def __repr__(self) -> str:
        # The default dataclass repr would print the API key into logs and tracebacks.
        return (
            f"UpstreamConfig(base_url={self.base_url!r}, api_key='***', protocol={self.protocol!r})"
        )

    @property
    def origin(self) -> str:
        """Return the base URL as scheme + host, without a trailing slash or API root."""
        return normalize_base_url(self.base_url)


def normalize_base_url(base_url: str) -> str:
    """Return ``base_url`` without a trailing slash or a known API root path."""
    url = base_url.strip().rstrip("/")
    for root in _API_ROOTS:
        if url.endswith(root):
            url = url[: -len(root)]
    return url.rstrip("/")
