"""A stored (English) error message is said in the reader's language, its detail kept."""

from __future__ import annotations

import pytest
from django.utils import translation

from chat.streaming import errortext
from chat.streaming.errortext import localize_error_message
from chat.upstream import catalog
from chat.upstream.errors import (
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    error_from_payload,
)
from tests.catalog import install_catalog

JAPANESE = {
    "Model Studio stopped responding.": "Model Studio が応答しなくなりました。",
    "%(summary)s (%(detail)s)": "%(summary)s（%(detail)s）",
    "%(model)s is no longer among the models your groups may use; pick another one.": (
        "%(model)s はもうグループで使えるモデルではありません。別のモデルを選んでください。"
    ),
    "%(model)s cannot read images; choose a vision model.": (
        "%(model)s は画像を読めません。画像に対応したモデルを選んでください。"
    ),
    "The worker writing this reply stopped unexpectedly. The text so far is kept.": (
        "この返信を書いていたワーカーが止まりました。ここまでの文章は残ります。"
    ),
}


@pytest.fixture
def japanese(settings, tmp_path):
    install_catalog(settings, tmp_path, "ja", JAPANESE)
    with translation.override("ja"):
        yield


def every_stored_text() -> list[str]:
    """Messages as the worker stores them, one of each kind, some with a detail."""
    upstream = [cls.build("code").message for cls in (UpstreamError, *all_subclasses())]
    detailed = [cls.build("code", "provider said (no)").message for cls in all_subclasses()]
    mine = [
        errortext.INTERNAL_ERROR_TEXT,
        errortext.SHUTDOWN_TEXT,
        errortext.INTERRUPTED_TEXT,
        errortext.ATTACHMENT_UNAVAILABLE_TEXT,
        errortext.MODEL_NO_LONGER_ALLOWED_TEXT % {"model": "Qwen3-VL-Flash (US)"},
    ]
    requests = [
        template % {"model": "QwQ-Plus", "limit": 10} for template in catalog.REQUEST_MESSAGES
    ]
    return upstream + detailed + mine + requests


def all_subclasses() -> list[type[UpstreamError]]:
    found, pending = [], [UpstreamError]
    while pending:
        found += (children := pending.pop().__subclasses__())
        pending += children
    return found


@pytest.mark.parametrize("text", every_stored_text())
def test_in_english_every_stored_text_reads_as_it_was_stored(text):
    with translation.override("en"):
        assert localize_error_message(text) == text


def test_a_known_summary_is_translated_and_the_providers_detail_kept(japanese):
    stored = UpstreamTimeout.build("timeout", "no data for 60 s").message
    assert stored == "Model Studio stopped responding. (no data for 60 s)"
    assert (
        localize_error_message(stored)
        == "Model Studio が応答しなくなりました。（no data for 60 s）"
    )


def test_a_summary_without_detail_is_translated_alone(japanese):
    stored = UpstreamTimeout.build("timeout").message
    assert localize_error_message(stored) == "Model Studio が応答しなくなりました。"


def test_the_detail_a_provider_sent_is_never_translated(japanese):
    payload = {"code": "Throttling", "message": "Model Studio stopped responding."}
    stored = error_from_payload(payload, http_status=429).message  # a RateLimited summary
    translated = localize_error_message(stored)
    # No Japanese for the rate-limit summary yet: it stays English; the detail is verbatim.
    assert translated == f"{RateLimited.summary}（Model Studio stopped responding.）"


def test_the_workers_own_texts_are_translated(japanese):
    assert localize_error_message(errortext.INTERRUPTED_TEXT).startswith("この返信")


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (
            errortext.MODEL_NO_LONGER_ALLOWED_TEXT % {"model": "Qwen3-VL-Flash (US)"},
            "Qwen3-VL-Flash (US) はもうグループで使えるモデルではありません。別のモデルを選んでください。",
        ),
        (
            catalog.VISION_UNSUPPORTED % {"model": "QwQ-Plus"},
            "QwQ-Plus は画像を読めません。画像に対応したモデルを選んでください。",
        ),
    ],
)
def test_a_model_name_in_the_text_is_kept_in_the_translation(japanese, stored, expected):
    assert localize_error_message(stored) == expected


def test_a_text_nobody_marked_is_left_as_it_is(japanese):
    assert localize_error_message("Something only an old version wrote.") == (
        "Something only an old version wrote."
    )
    assert localize_error_message("") == ""


def test_a_translation_with_a_wrong_placeholder_falls_back_to_english(settings, tmp_path):
    template = catalog.VISION_UNSUPPORTED
    install_catalog(settings, tmp_path, "ja", {template: "%(modell)s は画像を読めません。"})
    with translation.override("ja"):
        assert localize_error_message(template % {"model": "QwQ-Plus"}) == (
            "QwQ-Plus cannot read images; choose a vision model."
        )
