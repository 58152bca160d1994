"""HTTP statuses and provider error bodies map to typed, readable errors."""

from __future__ import annotations

import json

import pytest

import chat.upstream.errors as errors_module
from chat.upstream.errors import (
    AuthenticationError,
    ContentRejected,
    ModelNotFound,
    PermissionDenied,
    ProtocolError,
    RateLimited,
    RequestRejected,
    ServerError,
    UpstreamError,
    UpstreamTimeout,
    error_from_body,
    error_from_payload,
)


def ds(code: str, message: str) -> str:
    return json.dumps({"code": code, "message": message, "request_id": "req-1"})


def oa(code: str, message: str, kind: str = "invalid_request_error") -> str:
    return json.dumps({"error": {"message": message, "type": kind, "param": None, "code": code}})


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "retryable"),
    [
        (401, ds("InvalidApiKey", "Invalid API-key provided."), AuthenticationError, "InvalidApiKey", False),
        (401, oa("invalid_api_key", "Incorrect API key provided. "), AuthenticationError, "invalid_api_key", False),
        (429, ds("Throttling.RateQuota", "Requests rate limit exceeded."), RateLimited, "Throttling.RateQuota", True),
        (429, ds("Throttling.AllocationQuota", "Allocated quota exceeded."), RateLimited, "Throttling.AllocationQuota", True),
        (429, oa("limit_requests", "Requests rate limit exceeded.", "limit_requests"), RateLimited, "limit_requests", True),
        (400, ds("DataInspectionFailed", "Input data may contain inappropriate content."), ContentRejected, "DataInspectionFailed", False),
        (400, oa("data_inspection_failed", "Input data may contain.", "data_inspection_failed"), ContentRejected, "data_inspection_failed", False),
        (400, ds("InvalidParameter", "url error, please check url！"), RequestRejected, "InvalidParameter", False),
        (400, ds("InvalidParameter", "Model not exist."), ModelNotFound, "InvalidParameter", False),
        (404, oa("model_not_found", "The model `x` does not exist."), ModelNotFound, "model_not_found", False),
        (400, ds("Arrearage", "Access denied, plesase make sure your account is in good standing."), PermissionDenied, "Arrearage", False),
        (403, ds("AccessDenied.Unpurchased", "Access to model denied."), PermissionDenied, "AccessDenied.Unpurchased", False),
        (400, ds("InternalError.Algo.InvalidParameter", "The thinking_budget must be positive"), RequestRejected, "InternalError.Algo.InvalidParameter", False),
        (500, ds("InternalError", "An internal error has occured."), ServerError, "InternalError", True),
        (503, "<html>Service Unavailable</html>", ServerError, "http_503", True),
        (502, b"", ServerError, "http_502", True),
        (504, b"", UpstreamTimeout, "http_504", True),
        (418, b"", RequestRejected, "http_418", False),
    ],
)  # fmt: skip
def test_error_table(
    status: int, body: str | bytes, cls: type[UpstreamError], code: str, retryable: bool
) -> None:
    error = error_from_body(status, body)

    assert type(error) is cls
    assert (error.code, error.retryable, error.http_status) == (code, retryable, status)
    assert error.message.startswith(cls.summary)
    assert "<html>" not in error.message


def test_dashscope_body_keeps_provider_detail_and_request_id() -> None:
    error = error_from_body(
        400, ds("DataInspectionFailed", "Input data may contain inappropriate content.")
    )

    assert error.message == (
        "Model Studio's content moderation blocked this conversation. "
        "(Input data may contain inappropriate content.)"
    )
    assert error.request_id == "req-1"
    assert error.as_json() == {"code": "DataInspectionFailed", "message": error.message}


def test_messages_never_contain_api_keys() -> None:
    body = oa("invalid_api_key", "Incorrect API key provided: sk-abc123def456. Bearer sk-zzz")
    error = error_from_body(401, body)

    assert "sk-abc123" not in error.message
    assert "sk-zzz" not in error.message
    assert "***" in error.message


def test_in_stream_payloads_map_without_a_status() -> None:
    error = error_from_payload(
        {"code": "DataInspectionFailed", "message": "Output data may contain."}
    )

    assert isinstance(error, ContentRejected)
    assert error.http_status is None


def test_unknown_in_stream_code_is_a_plain_non_retryable_error() -> None:
    error = error_from_payload({"code": "SomethingNew", "message": "Huh."})

    assert type(error) is UpstreamError
    assert error.retryable is False


def test_retry_after_is_kept() -> None:
    error = error_from_body(429, ds("Throttling", "slow down"), retry_after=2.5)

    assert error.retry_after == 2.5


def test_long_provider_messages_are_bounded() -> None:
    error = error_from_body(400, ds("InvalidParameter", "x" * 5000))

    assert len(error.message) < 400


def test_status_200_with_an_unreadable_body_is_a_protocol_error() -> None:
    assert isinstance(error_from_body(200, b"not json"), ProtocolError)


def test_module_docstring_draws_the_hierarchy() -> None:
    doc = errors_module.__doc__ or ""
    for cls in (AuthenticationError, RateLimited, ContentRejected, UpstreamTimeout, ProtocolError):
        assert cls.__name__ in doc
        assert issubclass(cls, UpstreamError)
