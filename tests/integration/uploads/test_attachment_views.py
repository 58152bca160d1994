"""Attached images outside the owner's chat: on share pages and in the admin transcript."""

from __future__ import annotations

import io
import json

from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from chat.models import Conversation, Message, Upload


def attach_image(message: Message) -> Upload:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 9), (10, 200, 10)).save(buffer, format="PNG")
    upload = Upload(
        owner=message.conversation.owner, message=message, content_type="image/png",
        size=len(buffer.getvalue()), width=12, height=9, sha256="x",
    )  # fmt: skip
    upload.file.save(upload.id.hex, ContentFile(buffer.getvalue()), save=False)
    upload.save()
    return upload


def conversation_with_image(owner):
    conversation = Conversation.objects.create(owner=owner, title="Picture")
    question = Message.objects.create(conversation=conversation, role="user", content="What is it?")
    Message.objects.create(
        conversation=conversation,
        role="assistant",
        reply_to=question,
        content="A green box.",
        status="complete",
    )
    return conversation, attach_image(question)


def make_share(client, conversation) -> str:
    response = client.post(
        f"/api/conversations/{conversation.id}/shares/",
        data=json.dumps({"include_reasoning": False}),
        content_type="application/json",
    )
    assert response.status_code == 201
    return response.json()["token"]


def test_share_page_shows_snapshot_images_through_the_link(alice, alice_client):
    conversation, image = conversation_with_image(alice)
    token = make_share(alice_client, conversation)
    page = Client().get(f"/s/{token}/").content.decode()
    image_url = f"/s/{token}/images/{image.id}/"
    assert image_url in page
    response = Client().get(image_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Referrer-Policy"] == "no-referrer"


def test_share_link_serves_no_image_outside_its_snapshot(alice, alice_client):
    conversation, _ = conversation_with_image(alice)
    token = make_share(alice_client, conversation)
    later_question = Message.objects.create(
        conversation=conversation, role="user", content="And this?"
    )
    later_image = attach_image(later_question)
    other_conversation, other_image = conversation_with_image(alice)
    for upload in (later_image, other_image):
        assert Client().get(f"/s/{token}/images/{upload.id}/").status_code == 404
    assert (
        Client()
        .get(f"/s/not-a-real-token-at-all-xxxxxxxxxxxxxxxxxxxxx/images/{later_image.id}/")
        .status_code
        == 404
    )


def test_revoked_link_serves_no_image(alice, alice_client):
    conversation, image = conversation_with_image(alice)
    token = make_share(alice_client, conversation)
    assert alice_client.delete(f"/api/shares/{token}/").status_code == 204
    assert Client().get(f"/s/{token}/images/{image.id}/").status_code == 404


def test_staff_see_attachments_in_the_transcript_and_others_cannot(alice, alice_client, admin_user):
    conversation, image = conversation_with_image(alice)
    staff = Client()
    staff.force_login(admin_user)
    transcript = staff.get(f"/admin/chat/conversation/{conversation.id}/change/").content.decode()
    assert f"/admin/uploads/{image.id}/" in transcript
    assert staff.get(f"/admin/uploads/{image.id}/").status_code == 200
    assert alice_client.get(f"/admin/uploads/{image.id}/").status_code == 302  # to the admin login
