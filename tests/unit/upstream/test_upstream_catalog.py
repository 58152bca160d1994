"""The model catalog follows the seeds, and resolve_thinking enforces it."""

from __future__ import annotations

import pytest

from chat.upstream import MODELS, InvalidRequest, get_model, resolve_thinking

# DIGEST.md §6.1 and §6.2 (ids given there), plus §6.3's Qwen3.5 models.
SEED_IDS = {
    "qwen3-max", "qwen3-max-2026-01-23", "qwen3-max-preview",
    "qwen-plus", "qwen-plus-latest", "qwen-plus-2025-04-28",
    "qwen-flash", "qwen-flash-2025-07-28",
    "qwen-turbo", "qwen-turbo-latest", "qwen-turbo-2025-04-28",
    "qwen3-235b-a22b", "qwen3-32b", "qwen3-30b-a3b", "qwen3-14b", "qwen3-8b", "qwen3-4b",
    "qwen3-1.7b", "qwen3-0.6b",
    "qwen3-next-80b-a3b-thinking", "qwen3-235b-a22b-thinking-2507", "qwen3-30b-a3b-thinking-2507",
    "qwq-plus", "qwq-plus-latest", "qwq-plus-2025-03-05", "qwq-32b",
    "deepseek-v3.2", "deepseek-v3.2-exp", "deepseek-v3.1", "deepseek-r1", "deepseek-r1-0528",
    "kimi-k2-thinking",
    "qwen3-vl-plus", "qwen3-vl-plus-2025-09-23", "qwen3-vl-flash", "qwen3-vl-flash-2025-10-15",
    "qwen3-vl-plus-2025-12-19", "qwen3-vl-flash-us", "qwen3-vl-flash-2025-10-15-us",
    "qwen3-vl-235b-a22b-thinking", "qwen3-vl-32b-thinking", "qwen3-vl-30b-a3b-thinking",
    "qwen3-vl-8b-thinking",
    "qvq-max",
    "qwen3.5-plus", "qwen3.5-397b-a17b", "qwen3.5-122b-a10b", "qwen3.5-27b", "qwen3.5-35b-a3b",
}  # fmt: skip


def model(model_id: str):
    found = get_model(model_id)
    assert found is not None, model_id
    return found


def test_catalog_lists_every_seed_model_once() -> None:
    ids = [m.id for m in MODELS]

    assert set(ids) == SEED_IDS
    assert len(ids) == len(set(ids))
    assert ids[0] == "qwen-plus"


def test_as_json_has_exactly_the_contract_fields() -> None:
    assert model("qwen-plus").as_json() == {
        "id": "qwen-plus",
        "label": "Qwen-Plus",
        "family": "Qwen3",
        "thinking": "hybrid",
        "thinking_default": False,
        "supports_budget": True,
        "max_budget": None,
        "vision": False,
        "regions": ["singapore", "virginia", "beijing"],
        "snapshot_of": None,
    }


@pytest.mark.parametrize(
    ("model_id", "base"),
    [
        ("qwen-plus-2025-04-28", "qwen-plus"),
        ("qwen-plus-latest", "qwen-plus"),
        ("qwen3-max-preview", "qwen3-max"),
        ("qwen3-vl-flash-2025-10-15-us", "qwen3-vl-flash-us"),
        ("deepseek-r1-0528", "deepseek-r1"),
        ("qwen-plus", None),
        ("qwen3-235b-a22b-thinking-2507", None),  # no such base in the catalog
    ],
)
def test_snapshots_and_aliases_name_their_model(model_id: str, base: str | None) -> None:
    assert model(model_id).as_json()["snapshot_of"] == base


@pytest.mark.parametrize(
    ("model_id", "thinking", "default", "budget"),
    [
        ("qwen-plus", "hybrid", False, True),
        ("qwen3-32b", "hybrid", True, True),
        ("qwen3-235b-a22b-thinking-2507", "always", True, True),
        ("qwq-plus", "always", True, False),
        ("deepseek-v3.2", "hybrid", False, False),
        ("deepseek-r1", "always", True, False),
        ("kimi-k2-thinking", "always", True, True),
        ("qwen3-vl-plus", "hybrid", False, True),
        ("qwen3-vl-8b-thinking", "always", True, True),
        ("qvq-max", "always", True, False),
        ("qwen3.5-plus", "hybrid", True, False),
    ],
)
def test_thinking_modes_follow_the_seeds(
    model_id: str, thinking: str, default: bool, budget: bool
) -> None:
    info = model(model_id)

    assert (info.thinking, info.thinking_default, info.supports_budget) == (
        thinking,
        default,
        budget,
    )


def test_regions_follow_the_seeds() -> None:
    assert all(m.regions == ("beijing",) for m in MODELS if m.family in ("DeepSeek", "Kimi"))
    assert model("qwen3-vl-flash-us").regions == ("virginia",)
    assert model("qwen3-vl-flash-2025-10-15-us").regions == ("virginia",)
    assert model("qvq-max").regions == ("singapore", "beijing")
    assert model("qwen3-vl-plus-2025-12-19").regions == ("singapore", "beijing")
    assert model("qwen3-max").regions == ("singapore", "virginia", "beijing")


def test_vision_models_use_the_multimodal_endpoint() -> None:
    for info in MODELS:
        assert (info.endpoint == "multimodal") == info.vision, info.id
    assert model("qwen3.5-plus").endpoint == "multimodal"
    assert not any(m.echo_reasoning for m in MODELS)


def test_streaming_only_follows_the_non_streaming_faq() -> None:
    assert model("qwen-plus").streaming_only is False
    assert model("qwq-plus").streaming_only is True
    assert model("qvq-max").streaming_only is True
    assert model("qwen3-vl-plus").streaming_only is False


def test_unknown_model_is_none() -> None:
    assert get_model("gpt-4o") is None


@pytest.mark.parametrize(
    ("model_id", "enable", "budget", "expected"),
    [
        ("qwen-plus", None, None, (False, None)),
        ("qwen-plus", True, None, (True, None)),
        ("qwen-plus", True, 50, (True, 50)),
        ("qwen3-8b", None, None, (True, None)),
        ("qwen3-8b", False, None, (False, None)),
        ("qwq-plus", None, None, (True, None)),
        ("qwq-plus", True, None, (True, None)),
        ("kimi-k2-thinking", None, 1024, (True, 1024)),
        ("qwen3.5-plus", False, None, (False, None)),
    ],
)
def test_resolve_thinking_returns_the_effective_values(
    model_id: str, enable: bool | None, budget: int | None, expected: tuple[bool, int | None]
) -> None:
    assert resolve_thinking(model(model_id), enable, budget) == expected


@pytest.mark.parametrize(
    ("model_id", "enable", "budget", "field", "code"),
    [
        ("deepseek-r1", False, None, "enable_thinking", "thinking_required"),
        ("qvq-max", False, None, "enable_thinking", "thinking_required"),
        ("qwq-plus", None, 100, "thinking_budget", "budget_unsupported"),
        ("deepseek-v3.2", True, 100, "thinking_budget", "budget_unsupported"),
        ("qwen-plus", False, 100, "thinking_budget", "budget_without_thinking"),
        ("qwen-plus", None, 100, "thinking_budget", "budget_without_thinking"),
        ("qwen-plus", True, 0, "thinking_budget", "invalid_budget"),
        ("qwen-plus", True, -5, "thinking_budget", "invalid_budget"),
        ("qwen-plus", True, True, "thinking_budget", "invalid_budget"),
        ("qwen-plus", True, "50", "thinking_budget", "invalid_budget"),
    ],
)
def test_resolve_thinking_refuses_what_the_model_cannot_do(
    model_id: str, enable: bool | None, budget: object, field: str, code: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        resolve_thinking(model(model_id), enable, budget)  # type: ignore[arg-type]

    assert (caught.value.field, caught.value.code) == (field, code)
    assert caught.value.as_json()["message"]


def test_resolve_thinking_enforces_max_budget_when_set() -> None:
    import dataclasses

    capped = dataclasses.replace(model("qwen-plus"), max_budget=1000)

    assert resolve_thinking(capped, True, 1000) == (True, 1000)
    with pytest.raises(InvalidRequest, match="at most 1000"):
        resolve_thinking(capped, True, 1001)
