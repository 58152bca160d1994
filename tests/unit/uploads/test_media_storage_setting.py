"""PONDER_MEDIA_STORAGE picks the storage of uploads, and refuses what it does not know."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import media_storage

AWS_VARIABLES = (
    "AWS_S3_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_S3_REGION_NAME",
)


def test_local_keeps_uploads_under_the_media_root():
    assert media_storage("local", Path("/srv/var/uploads")) == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": "/srv/var/uploads"},
    }


def test_database_uses_our_storage():
    assert media_storage("database", Path("x")) == {
        "BACKEND": "chat.uploads.storage.DatabaseStorage"
    }


def test_s3_takes_bucket_and_prefix_from_the_url_and_the_rest_from_aws_variables(monkeypatch):
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_S3_REGION_NAME", "eu-west-1")
    entry = media_storage("s3://ponder-media/prod/uploads/", Path("x"))
    assert entry["BACKEND"] == "storages.backends.s3.S3Storage"
    assert entry["OPTIONS"] == {
        "bucket_name": "ponder-media",
        "location": "prod/uploads",
        "default_acl": "private",
        "querystring_auth": False,
        "file_overwrite": False,
        "endpoint_url": "http://minio:9000",
        "access_key": "key",
        "secret_key": "secret",
        "region_name": "eu-west-1",
    }


def test_s3_without_aws_variables_leaves_them_to_boto(monkeypatch):
    for variable in AWS_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    options = media_storage("s3://bucket", Path("x"))["OPTIONS"]
    assert (options["bucket_name"], options["location"]) == ("bucket", "")
    assert not {"endpoint_url", "access_key", "secret_key", "region_name"} & set(options)


@pytest.mark.parametrize(
    "value", ["", "disk", "Local", "s3://", "s3:bucket", "gs://bucket/x", "s3://b/p?x=1"]
)
def test_anything_else_fails_loudly(value):
    with pytest.raises(ImproperlyConfigured, match="PONDER_MEDIA_STORAGE"):
        media_storage(value, Path("x"))
