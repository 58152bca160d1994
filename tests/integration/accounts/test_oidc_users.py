"""Users from OpenID Connect claims: found by sub, created once, groups follow the claim."""

from __future__ import annotations

from django.contrib.auth.models import Group

from accounts.models import User
from accounts.oidc.users import group_names, sign_in_user
from chat.models import AuditEntry
from tests.factories import make_user


def claims(**changes):
    return {
        "sub": "00u1a2b3c4",
        "preferred_username": "ada",
        "email": "ada@example.com",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "groups": ["engineering", "research"],
    } | changes


def groups_of(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def test_first_sign_in_creates_the_user_from_the_claims(db):
    user = sign_in_user(claims(), groups_claim="groups")

    user.refresh_from_db()
    assert (user.username, user.email, user.first_name, user.last_name, user.oidc_subject) == (
        "ada", "ada@example.com", "Ada", "Lovelace", "00u1a2b3c4",
    )  # fmt: skip
    assert groups_of(user) == ["engineering", "research"]
    assert not user.has_usable_password()
    assert (user.is_staff, user.is_superuser) == (False, False)


def test_a_later_sign_in_replaces_the_groups_exactly(db):
    Group.objects.create(name="management")
    first = sign_in_user(claims(), groups_claim="groups")

    second = sign_in_user(claims(groups=["research", "management"]), groups_claim="groups")

    assert second.pk == first.pk
    assert groups_of(second) == ["management", "research"]
    assert Group.objects.filter(name="engineering").exists()  # removed from, not deleted
    entries = AuditEntry.objects.filter(action="group_changed", target_owner="ada").order_by("id")
    assert [(e.detail["added"], e.detail["removed"]) for e in entries] == [
        (["engineering", "research"], []),
        (["management"], ["engineering"]),
    ]
    # Sign-in announces the change (accounts.oidc.signals); chat.audit records it.
    assert {(e.target_type, e.target_id, e.detail["via"]) for e in entries} == {
        ("user", str(second.pk), "oidc")
    }
    assert all(e.actor_user_id is None for e in entries)  # no request: nobody acted


def test_users_are_matched_by_sub_even_when_the_email_changed(db):
    user = sign_in_user(claims(), groups_claim="groups")

    again = sign_in_user(claims(email="ada.l@example.com"), groups_claim="groups")

    assert again.pk == user.pk
    assert again.email == "ada.l@example.com"
    assert User.objects.count() == 1


def test_an_existing_account_with_the_same_email_is_not_taken_over(db):
    admin = make_user("ada", email="ada@example.com", is_superuser=True, is_staff=True)

    user = sign_in_user(claims(), groups_claim="groups")

    assert user.pk != admin.pk
    assert user.username == "ada-2"
    admin.refresh_from_db()
    assert admin.oidc_subject == "" and groups_of(admin) == []


def test_staff_and_superuser_flags_survive_a_sync(db):
    user = sign_in_user(claims(), groups_claim="groups")
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)

    again = sign_in_user(claims(groups=[]), groups_claim="groups")

    assert (again.is_staff, again.is_superuser, groups_of(again)) == (True, True, [])


def test_a_groups_claim_holding_one_name_as_a_string_is_tolerated(db):
    user = sign_in_user(claims(groups="engineering"), groups_claim="groups")
    assert groups_of(user) == ["engineering"]


def test_a_custom_groups_claim_is_read(db):
    user = sign_in_user(claims(roles=["ops"]), groups_claim="roles")
    assert groups_of(user) == ["ops"]


def test_without_the_groups_claim_the_user_is_in_no_group(db):
    sign_in_user(claims(), groups_claim="groups")
    without = claims()
    del without["groups"]
    assert groups_of(sign_in_user(without, groups_claim="groups")) == []


def test_the_username_falls_back_to_the_email_local_part(db):
    user = sign_in_user(
        claims(preferred_username=None, email="grace.hopper@example.com"), groups_claim="groups"
    )
    assert user.username == "grace.hopper"


def test_group_names_drop_what_is_not_a_name():
    assert group_names(["b", "a", "a", "", None, 7, {"x": 1}]) == ["7", "a", "b"]
    assert group_names({"not": "a list"}) == []
    assert group_names(None) == []
