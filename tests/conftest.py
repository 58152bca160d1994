"""Personas shared by every test: Alice and Bob are staff, Charlie is an admin."""

from __future__ import annotations

import pytest

PASSWORD = "correct horse battery staple"


def make_user(username: str, **extra):
    from accounts.models import User

    return User.objects.create_user(username=username, password=PASSWORD, **extra)


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def admin_user(db):
    return make_user("charlie", is_staff=True, is_superuser=True)


@pytest.fixture
def alice_client(alice, client):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob, client):
    client.force_login(bob)
    return client
