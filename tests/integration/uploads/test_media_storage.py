"""Uploads through Django's storage API: in the database, or in an S3-compatible store.

The S3 store is a real server (moto's server mode) started here. A file stored by one
process is read back by another with a var directory of its own: no shared disk.
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from chat.models import StoredFile, Upload
from chat.uploads import images as uploads
from chat.uploads.storage import DatabaseStorage
from config.env import media_storage
from tests import live

BUCKET = "ponder-test-media"
PREFIX = "ponder/uploads"
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_S3_REGION_NAME": "us-east-1",
}


def png(colour: tuple[int, int, int] = (10, 200, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 9), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def s3_server() -> Iterator[dict[str, str]]:
    """A real S3-compatible server on a free port, with an empty bucket; stopped after."""
    port = live.free_port()
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        env = {**S3_ENV, "AWS_S3_ENDPOINT_URL": endpoint}
        s3_client(env).create_bucket(Bucket=BUCKET)
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def s3_client(env: dict[str, str]):
    return boto3.client(
        "s3",
        endpoint_url=env["AWS_S3_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_S3_REGION_NAME"],
    )


@pytest.fixture(params=["database", "s3"])
def backend(request, monkeypatch) -> Iterator[dict[str, str]]:
    """Run the test with uploads in the database, then in S3; yield the child's env."""
    env = {"PONDER_MEDIA_STORAGE": "database"}
    if request.param == "s3":
        env = {
            **request.getfixturevalue("s3_server"),
            "PONDER_MEDIA_STORAGE": f"s3://{BUCKET}/{PREFIX}",
        }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    entry = media_storage(env["PONDER_MEDIA_STORAGE"], settings.MEDIA_ROOT)
    with override_settings(STORAGES={**settings.STORAGES, "default": entry}):
        yield env


def upload(client, data: bytes) -> dict:
    response = client.post(
        "/api/uploads/", {"file": SimpleUploadedFile("a.png", data, content_type="image/png")}
    )
    assert response.status_code == 201, response.content
    return response.json()


def where_it_lives(env: dict[str, str], name: str) -> bytes:
    """Read a stored upload straight from its store, behind Django's back."""
    if env["PONDER_MEDIA_STORAGE"] == "database":
        return bytes(StoredFile.objects.get(name=name).content)
    obj = s3_client(env).get_object(Bucket=BUCKET, Key=f"{PREFIX}/{name}")
    return obj["Body"].read()


def test_upload_serve_and_data_url_go_through_the_store(backend, alice_client):
    data = png()
    body = upload(alice_client, data)
    stored = Upload.objects.get(id=body["id"])
    assert where_it_lives(backend, stored.file.name) == data
    assert not (Path(settings.MEDIA_ROOT) / stored.file.name).exists()  # not on local disk
    served = alice_client.get(body["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == data
    assert uploads.data_url(stored) == uploads.data_url(Upload.objects.get(id=body["id"]))
    assert uploads.data_url(stored).startswith("data:image/png;base64,")
    assert uploads.read_upload(stored) == data


def test_a_missing_object_is_a_404_and_unavailable_upstream(backend, alice_client):
    body = upload(alice_client, png())
    stored = Upload.objects.get(id=body["id"])
    default_storage.delete(stored.file.name)
    assert not default_storage.exists(stored.file.name)
    assert alice_client.get(body["url"]).status_code == 404
    with pytest.raises(uploads.AttachmentUnavailable):
        uploads.data_url(stored)


def test_another_process_with_its_own_disk_reads_what_this_one_stored(
    backend, alice_client, transactional_db, tmp_path
):
    data = png((1, 2, 3))
    upload_id = upload(alice_client, data)["id"]
    expected = uploads.data_url(Upload.objects.get(id=upload_id))
    other_var = tmp_path / "other-var"
    env = {
        **os.environ,
        **backend,
        "PONDER_VAR_DIR": str(other_var),
        "DATABASE_URL": live.test_database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    script = (
        "import sys, django; django.setup()\n"
        "from django.conf import settings\n"
        "from chat.models import Upload\n"
        "from chat.uploads.images import data_url\n"
        "assert str(settings.MEDIA_ROOT).startswith(sys.argv[2]), settings.MEDIA_ROOT\n"
        "print(data_url(Upload.objects.get(id=sys.argv[1])))\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script, upload_id, str(other_var)],
        env=env, cwd=live.ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr[-3000:]
    assert child.stdout.strip() == expected
    assert not (other_var / "uploads").exists()  # nothing came from (or went to) a disk


def test_database_storage_keeps_names_unique(db):
    storage = DatabaseStorage()
    first = storage.save("uploads/x/abc", io.BytesIO(b"one"))
    second = storage.save("uploads/x/abc", io.BytesIO(b"two"))
    assert first == "uploads/x/abc" and second != first and second.startswith("uploads/x/abc_")
    assert storage.size(first) == 3 and storage.exists(second)
    with storage.open(second) as handle:
        assert handle.read() == b"two"
    storage.delete(first)
    assert not storage.exists(first)
    with pytest.raises(FileNotFoundError):
        storage.open(first)
    with pytest.raises(FileNotFoundError):
        storage.size(first)
    assert StoredFile.objects.count() == 1


def test_database_storage_detects_a_changed_file(db, alice_client):
    with override_settings(
        STORAGES={**settings.STORAGES, "default": media_storage("database", Path("x"))}
    ):
        stored = Upload.objects.get(id=upload(alice_client, png())["id"])
        StoredFile.objects.filter(name=stored.file.name).update(content=png((9, 9, 9)))
        with pytest.raises(uploads.AttachmentUnavailable, match="corrupt"):
            uploads.data_url(stored)


def test_rows_stored_on_local_disk_keep_working(alice_client):
    body = upload(alice_client, png())  # the default: local
    stored = Upload.objects.get(id=body["id"])
    assert (Path(settings.MEDIA_ROOT) / stored.file.name).read_bytes() == png()
    assert uploads.read_upload(stored) == png()
    assert uuid.UUID(body["id"])


def test_the_worker_sees_images_the_web_process_stored_without_a_shared_disk(
    simulator, transactional_db, tmp_path
):
    """A whole stack on ``database`` storage: daphne stores, a worker with its own var
    directory (no ``uploads`` of daphne's in sight) sends the image upstream."""
    from tests.factories import make_user
    from tests.integration.scripted import sim_requests

    queue = f"ponder-test-media-{uuid.uuid4().hex[:8]}"
    env = live.child_env(
        simulator, "openai", PONDER_CELERY_QUEUE=queue, PONDER_MEDIA_STORAGE="database"
    )
    worker = live.start_worker({**env, "PONDER_VAR_DIR": str(tmp_path / "worker-var")})
    try:
        web, base_url = live.start_daphne(env)
        try:
            make_user("alice")
            session = live.Session(base_url, "alice")
            data = png((4, 5, 6))
            uploaded = session.http.post("/api/uploads/", files={"file": ("a.png", data)})
            assert uploaded.status_code == 201, uploaded.text
            name = Upload.objects.get(id=uploaded.json()["id"]).file.name
            assert bytes(StoredFile.objects.get(name=name).content) == data
            assert not (Path(settings.MEDIA_ROOT) / name).exists()
            assert session.get(uploaded.json()["url"]).content == data
            conversation_id = session.new_conversation()
            prompt = f"What colour? {queue} [[sim:answer_tokens=3]]"
            with session.websocket(conversation_id) as ws:
                sent = session.send(
                    conversation_id, prompt, model="qvq-max", attachments=[uploaded.json()["id"]]
                )
                events = live.collect_events(ws, sent["assistant_message"]["id"])
            session.close()
        finally:
            web.stop()
    finally:
        worker.stop()
    assert events[-1]["status"] == "complete", events[-1]
    request = [r for r in sim_requests(simulator) if queue in str(r["body"])][-1]
    image = request["body"]["messages"][0]["content"][0]["image_url"]["url"]
    assert image == "data:image/png;base64," + base64.b64encode(data).decode()
    assert not (tmp_path / "worker-var" / "uploads").exists()
