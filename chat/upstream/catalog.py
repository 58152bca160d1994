"""The deep-thinking models Ponder offers, and what each one supports.

Built from the seed pages (DIGEST.md §6): [000]/[003] deep thinking, [002] visual
reasoning, [004] Qwen3.5. Where a seed is silent on regions for a Qwen model, all
three regions are listed; nothing states a maximum ``thinking_budget``, so
``max_budget`` is ``None`` everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from .i18n import gettext_noop

ThinkingMode = Literal["hybrid", "always", "none"]
Endpoint = Literal["text", "multimodal"]

ALL_REGIONS: tuple[str, ...] = ("singapore", "virginia", "beijing")
BEIJING: tuple[str, ...] = ("beijing",)
REGION_HOSTS: dict[str, str] = {
    "singapore": "https://dashscope-intl.aliyuncs.com",
    "virginia": "https://dashscope-us.aliyuncs.com",
    "beijing": "https://dashscope.aliyuncs.com",
}


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model and its thinking, vision, region and endpoint facts."""

    id: str
    label: str
    family: str
    thinking: ThinkingMode
    thinking_default: bool
    supports_budget: bool
    max_budget: int | None
    vision: bool
    regions: tuple[str, ...]
    endpoint: Endpoint
    echo_reasoning: bool = False
    streaming_only: bool = True

    def as_json(self) -> dict[str, Any]:
        """Return the ``/api/models/`` entry (docs/api.md)."""
        return {
            "id": self.id,
            "label": self.label,
            "family": self.family,
            "thinking": self.thinking,
            "thinking_default": self.thinking_default,
            "supports_budget": self.supports_budget,
            "max_budget": self.max_budget,
            "vision": self.vision,
            "regions": list(self.regions),
            "snapshot_of": snapshot_of(self.id),
        }


def _model(
    model_id: str,
    label: str,
    family: str,
    thinking: ThinkingMode,
    *,
    budget: bool,
    regions: tuple[str, ...] = ALL_REGIONS,
    vision: bool = False,
    streaming_only: bool = True,
    default: bool | None = None,
) -> ModelInfo:
    return ModelInfo(
        id=model_id,
        label=label,
        family=family,
        thinking=thinking,
        thinking_default=(thinking == "always") if default is None else default,
        supports_budget=budget,
        max_budget=None,
        vision=vision,
        regions=regions,
        endpoint="multimodal" if vision else "text",
        streaming_only=streaming_only,
    )


def _qwen3_commercial(model_id: str, label: str, *, streaming_only: bool = True) -> ModelInfo:
    return _model(model_id, label, "Qwen3", "hybrid", budget=True, streaming_only=streaming_only)


# Family names are product names, except this one's words (translated where shown).
QWEN3_OPEN_SOURCE = gettext_noop("Qwen3 open-source")


def _qwen3_open(model_id: str, label: str) -> ModelInfo:
    return _model(model_id, label, QWEN3_OPEN_SOURCE, "hybrid", budget=True, default=True)


def _qwen3_thinking(model_id: str, label: str) -> ModelInfo:
    return _model(model_id, label, QWEN3_OPEN_SOURCE, "always", budget=True, streaming_only=False)


def _qwq(model_id: str, label: str) -> ModelInfo:
    return _model(model_id, label, "QwQ", "always", budget=False)


def _deepseek(model_id: str, label: str, mode: ThinkingMode, *, streaming_only: bool) -> ModelInfo:
    return _model(
        model_id,
        label,
        "DeepSeek",
        mode,
        budget=False,
        regions=BEIJING,
        streaming_only=streaming_only,
    )


def _qwen3_vl(model_id: str, label: str, mode: ThinkingMode, regions: tuple[str, ...]) -> ModelInfo:
    # [002] does not state the hybrids' default; off, like the Qwen3 commercial hybrids.
    return _model(
        model_id,
        label,
        "Qwen3-VL",
        mode,
        budget=True,
        regions=regions,
        vision=True,
        streaming_only=False,
    )


def _qwen35(model_id: str, label: str) -> ModelInfo:
    # [004]: thinking is on by default for the Qwen3.5 series, its samples call it without
    # streaming, and budget support is not stated.
    return _model(
        model_id,
        label,
        "Qwen3.5",
        "hybrid",
        budget=False,
        vision=True,
        default=True,
        streaming_only=False,
    )


_VL_GLOBAL: tuple[str, ...] = ALL_REGIONS  # Global mode is served from Virginia [002]
_VL_INTL_CN: tuple[str, ...] = ("singapore", "beijing")
_VL_US: tuple[str, ...] = ("virginia",)

MODELS: tuple[ModelInfo, ...] = (
    _qwen3_commercial("qwen-plus", "Qwen-Plus", streaming_only=False),
    _qwen3_commercial("qwen3-max", "Qwen3-Max"),
    _qwen3_commercial("qwen-flash", "Qwen-Flash", streaming_only=False),
    _qwen35("qwen3.5-plus", "Qwen3.5-Plus"),
    _qwen3_commercial("qwen-turbo", "Qwen-Turbo", streaming_only=False),
    _qwen3_vl("qwen3-vl-plus", "Qwen3-VL-Plus", "hybrid", _VL_GLOBAL),
    _qwen3_vl("qwen3-vl-flash", "Qwen3-VL-Flash", "hybrid", _VL_GLOBAL),
    _model("qvq-max", "QVQ-Max", "QVQ", "always", budget=False, regions=_VL_INTL_CN, vision=True),
    _model(
        "kimi-k2-thinking",
        "Kimi K2 Thinking",
        "Kimi",
        "always",
        budget=True,
        regions=BEIJING,
        streaming_only=False,
    ),
    _deepseek("deepseek-v3.2", "DeepSeek-V3.2", "hybrid", streaming_only=False),
    _deepseek("deepseek-r1", "DeepSeek-R1", "always", streaming_only=False),
    # Snapshots and "latest" aliases of the commercial models.
    _qwen3_commercial("qwen3-max-2026-01-23", "Qwen3-Max 2026-01-23"),
    _qwen3_commercial("qwen3-max-preview", "Qwen3-Max Preview", streaming_only=False),
    _qwen3_commercial("qwen-plus-latest", "Qwen-Plus Latest"),
    _qwen3_commercial("qwen-plus-2025-04-28", "Qwen-Plus 2025-04-28"),
    _qwen3_commercial("qwen-flash-2025-07-28", "Qwen-Flash 2025-07-28", streaming_only=False),
    _qwen3_commercial("qwen-turbo-latest", "Qwen-Turbo Latest"),
    _qwen3_commercial("qwen-turbo-2025-04-28", "Qwen-Turbo 2025-04-28"),
    # Qwen3 open-source hybrids (thinking on by default).
    _qwen3_open("qwen3-235b-a22b", "Qwen3-235B-A22B"),
    _qwen3_open("qwen3-32b", "Qwen3-32B"),
    _qwen3_open("qwen3-30b-a3b", "Qwen3-30B-A3B"),
    _qwen3_open("qwen3-14b", "Qwen3-14B"),
    _qwen3_open("qwen3-8b", "Qwen3-8B"),
    _qwen3_open("qwen3-4b", "Qwen3-4B"),
    _qwen3_open("qwen3-1.7b", "Qwen3-1.7B"),
    _qwen3_open("qwen3-0.6b", "Qwen3-0.6B"),
    # Qwen3 thinking-only.
    _qwen3_thinking("qwen3-next-80b-a3b-thinking", "Qwen3-Next-80B-A3B Thinking"),
    _qwen3_thinking("qwen3-235b-a22b-thinking-2507", "Qwen3-235B-A22B Thinking 2507"),
    _qwen3_thinking("qwen3-30b-a3b-thinking-2507", "Qwen3-30B-A3B Thinking 2507"),
    # QwQ (thinking-only, no budget).
    _qwq("qwq-plus", "QwQ-Plus"),
    _qwq("qwq-plus-latest", "QwQ-Plus Latest"),
    _qwq("qwq-plus-2025-03-05", "QwQ-Plus 2025-03-05"),
    _qwq("qwq-32b", "QwQ-32B"),
    # DeepSeek (Beijing only).
    _deepseek("deepseek-v3.2-exp", "DeepSeek-V3.2-Exp", "hybrid", streaming_only=False),
    _deepseek("deepseek-v3.1", "DeepSeek-V3.1", "hybrid", streaming_only=True),
    _deepseek("deepseek-r1-0528", "DeepSeek-R1-0528", "always", streaming_only=False),
    # Qwen3-VL snapshots and thinking-only models.
    _qwen3_vl("qwen3-vl-plus-2025-12-19", "Qwen3-VL-Plus 2025-12-19", "hybrid", _VL_INTL_CN),
    _qwen3_vl("qwen3-vl-plus-2025-09-23", "Qwen3-VL-Plus 2025-09-23", "hybrid", _VL_GLOBAL),
    _qwen3_vl("qwen3-vl-flash-2025-10-15", "Qwen3-VL-Flash 2025-10-15", "hybrid", _VL_GLOBAL),
    _qwen3_vl("qwen3-vl-flash-us", "Qwen3-VL-Flash (US)", "hybrid", _VL_US),
    _qwen3_vl("qwen3-vl-flash-2025-10-15-us", "Qwen3-VL-Flash 2025-10-15 (US)", "hybrid", _VL_US),
    _qwen3_vl("qwen3-vl-235b-a22b-thinking", "Qwen3-VL-235B-A22B Thinking", "always", _VL_GLOBAL),
    _qwen3_vl("qwen3-vl-32b-thinking", "Qwen3-VL-32B Thinking", "always", _VL_GLOBAL),
    _qwen3_vl("qwen3-vl-30b-a3b-thinking", "Qwen3-VL-30B-A3B Thinking", "always", _VL_GLOBAL),
    _qwen3_vl("qwen3-vl-8b-thinking", "Qwen3-VL-8B Thinking", "always", _VL_GLOBAL),
    # Qwen3.5 open-source series ([004] names them, nothing more).
    _qwen35("qwen3.5-397b-a17b", "Qwen3.5-397B-A17B"),
    _qwen35("qwen3.5-122b-a10b", "Qwen3.5-122B-A10B"),
    _qwen35("qwen3.5-35b-a3b", "Qwen3.5-35B-A3B"),
    _qwen35("qwen3.5-27b", "Qwen3.5-27B"),
)

_BY_ID: dict[str, ModelInfo] = {model.id: model for model in MODELS}


def get_model(model_id: str) -> ModelInfo | None:
    """Return the catalog entry for ``model_id``, or None when it is not offered."""
    return _BY_ID.get(model_id)


_SNAPSHOT = re.compile(
    r"^(?P<base>.+?)-(?:latest|preview|exp|\d{4}-\d{2}-\d{2}|\d{4})(?P<region>-us)?$"
)


def snapshot_of(model_id: str) -> str | None:
    """Return the model a dated snapshot or alias belongs to, if the catalog has it.

    "qwen-plus-2025-04-28" and "qwen-plus-latest" belong to "qwen-plus"; the picker
    folds them under it.
    """
    match = _SNAPSHOT.match(model_id)
    if match is None:
        return None
    for base in (match["base"] + (match["region"] or ""), match["base"]):
        if base in _BY_ID and base != model_id:
            return base
    return None


def models_for_region(region: str) -> tuple[ModelInfo, ...]:
    """Return the models served in ``region`` ("singapore", "virginia", "beijing")."""
    return tuple(model for model in MODELS if region in model.regions)


# Why a request cannot be served, in English with named placeholders; InvalidRequest
# keeps the template so the edge can say it in the reader's language.
THINKING_REQUIRED = gettext_noop("%(model)s always thinks; deep thinking cannot be turned off.")
THINKING_UNSUPPORTED = gettext_noop("%(model)s does not support deep thinking.")
BUDGET_NOT_WHOLE = gettext_noop("The thinking budget must be a whole number.")
BUDGET_UNSUPPORTED = gettext_noop("%(model)s does not support a thinking budget.")
BUDGET_WITHOUT_THINKING = gettext_noop("A thinking budget needs deep thinking switched on.")
BUDGET_NOT_POSITIVE = gettext_noop("The thinking budget must be at least 1 token.")
BUDGET_TOO_LARGE = gettext_noop("%(model)s accepts a thinking budget of at most %(limit)s tokens.")
VISION_UNSUPPORTED = gettext_noop("%(model)s cannot read images; choose a vision model.")
REQUEST_MESSAGES: tuple[str, ...] = (
    THINKING_REQUIRED,
    THINKING_UNSUPPORTED,
    BUDGET_NOT_WHOLE,
    BUDGET_UNSUPPORTED,
    BUDGET_WITHOUT_THINKING,
    BUDGET_NOT_POSITIVE,
    BUDGET_TOO_LARGE,
    VISION_UNSUPPORTED,
)


class InvalidRequest(ValueError):
    """A chat request the chosen model cannot serve.

    ``message`` is English; ``template`` (marked for translation) and ``params`` let the
    edge say it in the reader's language: ``gettext(template) % params``.
    """

    def __init__(
        self, code: str, template: str, *, field: str, params: dict[str, Any] | None = None
    ) -> None:
        self.template = template
        self.params = params or {}
        self.message = template % self.params if self.params else template
        super().__init__(self.message)
        self.code = code
        self.field = field

    def as_json(self) -> dict[str, str]:
        """Return the API's 400 ``error`` object (docs/api.md)."""
        return {"code": self.code, "message": self.message, "field": self.field}


def resolve_thinking(
    model: ModelInfo, enable_thinking: bool | None, thinking_budget: int | None
) -> tuple[bool, int | None]:
    """Return the effective (enable_thinking, thinking_budget), or raise InvalidRequest."""
    named = {"model": model.label}
    if model.thinking == "always":
        if enable_thinking is False:
            raise InvalidRequest(
                "thinking_required", THINKING_REQUIRED, field="enable_thinking", params=named
            )
        effective = True
    elif model.thinking == "none":
        if enable_thinking:
            raise InvalidRequest(
                "thinking_unsupported", THINKING_UNSUPPORTED, field="enable_thinking", params=named
            )
        effective = False
    else:
        effective = model.thinking_default if enable_thinking is None else bool(enable_thinking)
    if thinking_budget is None:
        return effective, None
    if isinstance(thinking_budget, bool) or not isinstance(thinking_budget, int):
        raise InvalidRequest("invalid_budget", BUDGET_NOT_WHOLE, field="thinking_budget")
    if not model.supports_budget:
        raise InvalidRequest(
            "budget_unsupported", BUDGET_UNSUPPORTED, field="thinking_budget", params=named
        )
    if not effective:
        raise InvalidRequest(
            "budget_without_thinking", BUDGET_WITHOUT_THINKING, field="thinking_budget"
        )
    if thinking_budget <= 0:
        raise InvalidRequest("invalid_budget", BUDGET_NOT_POSITIVE, field="thinking_budget")
    if model.max_budget is not None and thinking_budget > model.max_budget:
        raise InvalidRequest(
            "budget_too_large",
            BUDGET_TOO_LARGE,
            field="thinking_budget",
            params={**named, "limit": model.max_budget},
        )
    return effective, thinking_budget
