"""A single-sign-on identity becomes the kdash user it belongs to, with that user's name and role.

The identity provider says who someone is; kdash's users table says what they may do. A subject
already linked to one user must not be re-read by e-mail (which another user may carry).
"""

from __future__ import annotations

from sqlalchemy import select

from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import Role
from kdash.services.authentication import actor_for_oidc
from kdash.services.users import create_user
from kdash.storage.database import Database
from kdash.storage.models import User


def test_the_linked_subject_wins_over_an_e_mail_another_user_carries(sqlite_db: Database) -> None:
    with sqlite_db.write() as s:
        create_user(
            s, "dr.a", Role.PROVIDER, None, DEFAULT_SETTINGS, display_name="Dr A", email="a@clinic.example"
        )
        create_user(
            s, "nurse.b", Role.NURSE, None, DEFAULT_SETTINGS, display_name="Nurse B", email="b@clinic.example"
        )
    with sqlite_db.write() as s:
        first = actor_for_oidc(s, "sub-a", "a@clinic.example")
    with sqlite_db.write() as s:
        again = actor_for_oidc(s, "sub-a", "b@clinic.example")  # the provider now sends another address
        b = s.scalars(select(User).where(User.username == "nurse.b")).one()
        assert b.oidc_subject is None  # nurse.b's account was not taken over
    assert first is not None
    assert again is not None
    assert (again.username, again.role, again.display_name) == ("dr.a", Role.PROVIDER, "Dr A")
    assert (first.username, first.display_name) == ("dr.a", "Dr A")
