"""JSON API (docs/api.md): parse → call a service → respond."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.language.choices import LANGUAGE_CHOICES, remember_language
from accounts.policy import policy_for
from chat.fairuse.quota import get_quota
from chat.http import (
    AuthenticatedHttpRequest,
    get_bool,
    get_choice,
    get_int,
    get_str,
    get_uuid,
    get_uuid_list,
    json_api,
    parse_json_object,
)
from chat.uploads import images as uploads
from chat.upstream.catalog import MODELS

from . import editing, presets, services
from .presets import MAX_SYSTEM_PROMPT_CHARS
from .search import search_conversations
from .serializers import conversation_json, conversation_summary_json, message_json

MAX_BUDGET = 10_000_000


@require_GET
@json_api
def models_view(request: AuthenticatedHttpRequest) -> JsonResponse:
    """The models the user's policy allows, each budget capped by the policy."""
    policy = policy_for(request.user)
    cap = policy.max_thinking_budget
    entries = []
    for model in MODELS:
        if not policy.allows(model.id):
            continue
        entry = model.as_json()
        entry["family"] = gettext(model.family)  # the ids and labels are product names
        if cap is not None and model.supports_budget:
            entry["max_budget"] = min(cap, model.max_budget or cap)
        entries.append(entry)
    return JsonResponse({"models": entries})


@require_http_methods(["GET", "POST"])
@json_api
def conversations_view(request: AuthenticatedHttpRequest) -> JsonResponse:
    if request.method == "POST":
        body = parse_json_object(request)
        if (preset_id := get_uuid(body, "preset")) is not None:
            conversation = presets.start_conversation(request.user, preset_id)
        else:
            title = get_str(body, "title", required=False, max_length=services.MAX_TITLE_CHARS)
            system_prompt = get_str(
                body, "system_prompt", required=False, max_length=MAX_SYSTEM_PROMPT_CHARS
            )
            conversation = services.create_conversation(
                request.user, title or "", system_prompt=system_prompt
            )
        return JsonResponse(conversation_json(conversation, []), status=201)
    query = request.GET.get("q", "").strip()[:200]
    if not query:
        results = services.list_conversations(request.user)
        return JsonResponse({"results": [conversation_summary_json(c) for c in results]})
    hits = search_conversations(request.user, query)
    return JsonResponse(
        {
            "results": [
                {
                    **conversation_summary_json(hit.conversation),
                    "snippet": hit.snippet.as_json() if hit.snippet else None,
                }
                for hit in hits
            ]
        }
    )


@require_http_methods(["GET", "PATCH", "DELETE"])
@json_api
def conversation_view(
    request: AuthenticatedHttpRequest, conversation_id: uuid.UUID
) -> HttpResponse:
    if request.method == "DELETE":
        services.delete_conversation(request.user, conversation_id)
        return HttpResponse(status=204)
    if request.method == "PATCH":
        body = parse_json_object(request)
        conversation = services.update_conversation(
            request.user,
            conversation_id,
            title=get_str(body, "title", required=False, max_length=services.MAX_TITLE_CHARS),
            system_prompt=get_str(
                body, "system_prompt", required=False, max_length=MAX_SYSTEM_PROMPT_CHARS
            ),
        )
    else:
        conversation = services.access_conversation(request.user, conversation_id)
    shown = services.shown_messages(conversation)
    return JsonResponse(conversation_json(conversation, shown.messages, shown.versions))


@require_POST
@json_api
def send_message_view(
    request: AuthenticatedHttpRequest, conversation_id: uuid.UUID
) -> JsonResponse:
    body = parse_json_object(request)
    conversation = services.access_conversation(request.user, conversation_id)  # 404 before 400
    content = get_str(body, "content", max_length=services.MAX_CONTENT_CHARS)
    model = get_str(body, "model", max_length=100)
    enable_thinking = get_bool(body, "enable_thinking")
    thinking_budget = get_int(body, "thinking_budget", minimum=1, maximum=MAX_BUDGET)
    attachments = get_uuid_list(body, "attachments", max_items=uploads.MAX_ATTACHMENTS)
    video_frames = get_uuid_list(body, "video_frames", max_items=uploads.MAX_VIDEO_FRAMES)
    sent = services.send_message(
        request.user,
        conversation,
        content=content,
        model=model,
        enable_thinking=enable_thinking,
        thinking_budget=thinking_budget,
        attachments=attachments,
        video_frames=video_frames,
    )
    return JsonResponse(
        {
            "user_message": message_json(sent.user_message),
            "assistant_message": message_json(sent.assistant_message),
        },
        status=202,
    )


@require_POST
@json_api
def stop_message_view(request: AuthenticatedHttpRequest, message_id: uuid.UUID) -> JsonResponse:
    message = services.stop_message(request.user, message_id)
    return JsonResponse({"message": message_json(message)}, status=202)


@require_POST
@json_api
def regenerate_message_view(
    request: AuthenticatedHttpRequest, message_id: uuid.UUID
) -> JsonResponse:
    # The body is optional: without one (or without JSON) the reply keeps its model.
    body = parse_json_object(request) if request.content_type == "application/json" else {}
    choice = None
    if body.get("model") is not None:
        choice = services.ModelChoice(
            model=get_str(body, "model", max_length=100),
            enable_thinking=get_bool(body, "enable_thinking"),
            thinking_budget=get_int(body, "thinking_budget", minimum=1, maximum=MAX_BUDGET),
        )
    message = services.regenerate_message(request.user, message_id, choice)
    return JsonResponse({"assistant_message": message_json(message)}, status=202)


@require_POST
@json_api
def edit_message_view(request: AuthenticatedHttpRequest, message_id: uuid.UUID) -> JsonResponse:
    services.access_message(request.user, message_id)  # 404 before 400
    body = parse_json_object(request)
    sent = editing.edit_message(
        request.user,
        message_id,
        content=get_str(body, "content", max_length=services.MAX_CONTENT_CHARS),
        model=get_str(body, "model", max_length=100),
        enable_thinking=get_bool(body, "enable_thinking"),
        thinking_budget=get_int(body, "thinking_budget", minimum=1, maximum=MAX_BUDGET),
    )
    return JsonResponse(
        {
            "user_message": message_json(sent.user_message),
            "assistant_message": message_json(sent.assistant_message),
        },
        status=202,
    )


@require_POST
@json_api
def select_version_view(request: AuthenticatedHttpRequest, message_id: uuid.UUID) -> JsonResponse:
    message = services.select_version(request.user, message_id)
    return JsonResponse({"message": message_json(message)})


@require_GET
@json_api
def me_view(request: AuthenticatedHttpRequest) -> JsonResponse:
    """Who is logged in, and what is left of their monthly allowances."""
    user = request.user
    policy = policy_for(user)
    quota = get_quota(user, policy=policy)
    return JsonResponse(
        {
            "username": user.get_username(),
            "is_staff": user.is_staff,
            "groups": list(policy.groups),
            "quota": quota.as_json(),
            "budget": quota.budget_json(),
            "retention_days": settings.RETENTION_DAYS,
        }
    )


@require_http_methods(["GET", "PATCH"])
@json_api
def settings_view(request: AuthenticatedHttpRequest) -> JsonResponse:
    """The user's own settings: the system prompt new chats start with, the UI language."""
    user = request.user
    if request.method == "PATCH":
        body = parse_json_object(request)
        prompt = get_str(
            body, "default_system_prompt", required=False, max_length=MAX_SYSTEM_PROMPT_CHARS
        )
        language = get_choice(body, "language", choices=LANGUAGE_CHOICES)
        if prompt is not None:
            user.default_system_prompt = prompt.strip()
        if language is not None:
            user.language = language
        user.save(update_fields=["default_system_prompt", "language"])
    response = JsonResponse(
        {"default_system_prompt": user.default_system_prompt, "language": user.language}
    )
    if request.method == "PATCH" and language is not None:
        remember_language(response, language)
    return response


def preset_in(request: AuthenticatedHttpRequest) -> presets.PresetIn:
    body = parse_json_object(request)
    return presets.PresetIn(
        name=get_str(body, "name", max_length=presets.MAX_NAME_CHARS),
        model=get_str(body, "model", max_length=100),
        enable_thinking=get_bool(body, "enable_thinking"),
        thinking_budget=get_int(body, "thinking_budget", minimum=1, maximum=MAX_BUDGET),
        system_prompt=get_str(
            body, "system_prompt", required=False, max_length=MAX_SYSTEM_PROMPT_CHARS
        )
        or "",
    )


@require_http_methods(["GET", "POST"])
@json_api
def presets_view(request: AuthenticatedHttpRequest) -> JsonResponse:
    if request.method == "POST":
        preset = presets.create_preset(request.user, preset_in(request))
        return JsonResponse(presets.preset_json(preset), status=201)
    return JsonResponse(
        {"results": [presets.preset_json(p) for p in presets.list_presets(request.user)]}
    )


@require_http_methods(["PATCH", "DELETE"])
@json_api
def preset_view(request: AuthenticatedHttpRequest, preset_id: uuid.UUID) -> HttpResponse:
    if request.method == "DELETE":
        presets.delete_preset(request.user, preset_id)
        return HttpResponse(status=204)
    presets.access_preset(request.user, preset_id)  # 404 before 400
    preset = presets.update_preset(request.user, preset_id, preset_in(request))
    return JsonResponse(presets.preset_json(preset))
