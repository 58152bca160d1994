"""Check a generation request the way Model Studio would, and plan the response."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from chat.upstream.catalog import ModelInfo, get_model
from chat.upstream.tokens import estimate_tokens
from simulator.formats import dumps

Dialect = Literal["openai", "text", "multimodal"]
IMAGE_TOKENS = 256  # a flat, made-up cost per image


class SimError(Exception):
    """A request Model Studio would refuse, with both protocols' wording."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        oa_code: str = "invalid_parameter_error",
        oa_type: str = "invalid_request_error",
        oa_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.oa_code = oa_code
        self.oa_type = oa_type
        self.oa_message = oa_message or message

    def body(self, dialect: Dialect, request_id: str) -> bytes:
        """Return the error body in the dialect's shape."""
        if dialect == "openai":
            error = {
                "message": self.oa_message,
                "type": self.oa_type,
                "param": None,
                "code": self.oa_code,
            }
            return dumps({"error": error, "request_id": request_id}).encode()
        return dumps(
            {"code": self.code, "message": self.message, "request_id": request_id}
        ).encode()


def _invalid(message: str) -> SimError:
    return SimError(400, "InvalidParameter", message)


BAD_KEY = SimError(
    401,
    "InvalidApiKey",
    "Invalid API-key provided.",
    oa_code="invalid_api_key",
    oa_message="Incorrect API key provided. ",
)
RATE_LIMITED = SimError(
    429,
    "Throttling.RateQuota",
    "Requests rate limit exceeded, please try again later.",
    oa_code="limit_requests",
    oa_type="limit_requests",
)
INTERNAL = SimError(
    500,
    "InternalError",
    "An internal error has occured, please try again later or contact service support.",
    oa_code="internal_error",
    oa_type="internal_error",
)
INPUT_INSPECTION = SimError(
    400,
    "DataInspectionFailed",
    "Input data may contain inappropriate content.",
    oa_code="data_inspection_failed",
    oa_type="data_inspection_failed",
)
OUTPUT_INSPECTION = SimError(
    400,
    "DataInspectionFailed",
    "Output data may contain inappropriate content.",
    oa_code="data_inspection_failed",
    oa_type="data_inspection_failed",
)
URL_ERROR = _invalid("url error, please check url！")


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything the simulator needs to answer one valid request."""

    dialect: Dialect
    model: ModelInfo
    stream: bool
    include_usage: bool
    incremental: bool
    thinking: bool
    budget: int | None
    prompt: str  # the last user message's text, directives included
    input_tokens: int
    system: str = ""  # the system messages' text

    @property
    def asks_for_title(self) -> bool:
        return "title" in self.system.lower()


def _parts(content: Any) -> tuple[str, int]:
    """Return the text and image count (video frames included) of a message content."""
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        raise _invalid("Message content must be a string or a list.")
    texts: list[str] = []
    images = 0
    for part in content:
        if not isinstance(part, dict):
            raise _invalid("Message content parts must be objects.")
        if isinstance(part.get("text"), str):
            texts.append(part["text"])
        if "image" in part or "image_url" in part or part.get("type") == "image_url":
            images += 1
        elif "video" in part:
            frames = part["video"]
            if (
                not isinstance(frames, list)
                or not frames
                or not all(isinstance(f, str) for f in frames)
            ):
                raise _invalid("A video must be a non-empty list of frame URLs.")
            images += len(frames)
    return "".join(texts), images


def plan_request(dialect: Dialect, body: bytes, headers: dict[str, str]) -> Plan:
    """Return the plan for a generation request, or raise SimError."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise _invalid("Request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise _invalid("Request body must be a JSON object.")
    model_id = payload.get("model")
    if not isinstance(model_id, str) or not model_id:
        raise SimError(400, "BadRequest.EmptyModel", 'Required parameter "model" missing.')
    model = get_model(model_id)
    if model is None:
        raise SimError(
            404 if dialect == "openai" else 400,
            "InvalidParameter",
            "Model not exist.",
            oa_code="model_not_found",
            oa_message=f"The model `{model_id}` does not exist or you do not have access to it.",
        )
    if dialect != "openai" and dialect != model.endpoint:
        raise URL_ERROR
    if dialect == "openai":
        messages = payload.get("messages")
        options: dict[str, Any] = payload
    else:
        messages = (payload.get("input") or {}).get("messages")
        options = payload.get("parameters") or {}
    if not isinstance(messages, list) or not messages:
        raise SimError(400, "BadRequest.EmptyInput", "Required input parameter missing.")
    return _plan(dialect, model, payload, options, messages, headers)


def _plan(
    dialect: Dialect,
    model: ModelInfo,
    payload: dict[str, Any],
    options: dict[str, Any],
    messages: list[Any],
    headers: dict[str, str],
) -> Plan:
    input_tokens = 0
    prompt: str | None = None
    system: list[str] = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "user",
            "assistant",
        ):
            raise _invalid("Each message needs a role of system, user or assistant.")
        text, images = _parts(message.get("content"))
        if images and (not model.vision or message["role"] != "user"):
            raise _invalid(f"The model {model.id} does not support image input.")
        input_tokens += estimate_tokens(text) + 3 + images * IMAGE_TOKENS
        if message["role"] == "user":
            prompt = text
        elif message["role"] == "system":
            system.append(text)
    if prompt is None:
        raise _invalid("At least one user message is required.")
    thinking = _thinking(model, options.get("enable_thinking"))
    budget = _budget(model, options.get("thinking_budget")) if thinking else None
    if dialect == "openai":
        stream = payload.get("stream") is True
        include_usage = (payload.get("stream_options") or {}).get("include_usage") is True
        incremental = True
    else:
        stream = headers.get("x-dashscope-sse", "").lower() == "enable"
        include_usage = True
        incremental = _incremental(model, options)
    if not stream and model.streaming_only:
        raise _invalid(
            "This model only support stream mode, please enable the stream parameter "
            "to access the model."
        )
    return Plan(
        dialect, model, stream, include_usage, incremental, thinking, budget, prompt, input_tokens,
        system="\n".join(system),
    )  # fmt: skip


def _thinking(model: ModelInfo, value: Any) -> bool:
    if value is not None and not isinstance(value, bool):
        raise _invalid("The enable_thinking parameter must be a boolean.")
    if model.thinking == "always":
        if value is False:
            raise _invalid("The value of the enable_thinking parameter is restricted to True.")
        return True
    if model.thinking == "none":
        return False
    return model.thinking_default if value is None else value


def _budget(model: ModelInfo, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _invalid("The thinking_budget parameter must be a positive integer.")
    if not model.supports_budget:
        raise _invalid(f"The thinking_budget parameter is not supported by model {model.id}.")
    return value


def _incremental(model: ModelInfo, options: dict[str, Any]) -> bool:
    result_format = options.get("result_format", "message" if model.vision else None)
    if result_format != "message":
        raise _invalid('The simulator only speaks result_format "message"; set it.')
    default = model.family == "QVQ"
    incremental = options.get("incremental_output", default)
    if model.family == "QVQ" and incremental is not True:
        raise _invalid("The incremental_output parameter of this model must be true.")
    return incremental is True
