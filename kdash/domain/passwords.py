"""Passwords: hashing, verification and the clinic's password policy; user-name rules.

Passwords are hashed with Argon2id (argon2-cffi: the Password Hashing Competition winner, maintained,
OWASP's first choice); a hash is never compared by hand.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kdash.domain.policy import ClinicPolicy

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_policy(password: str, settings: ClinicPolicy) -> None:
    """Refuse a password shorter than the clinic's minimum (NIST SP 800-63B: length over complexity)."""
    if len(password) < settings.password_min_length:
        raise ValueError(
            f"The password must have at least {settings.password_min_length} characters "
            f"(it has {len(password)})."
        )


def validate_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 64 or not all(ch.isalnum() or ch in "._-@" for ch in name):
        raise ValueError(
            f"A user name has 1–64 letters, digits or . _ - @ (no spaces); {username!r} does not qualify."
        )
    return name


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: rehash at the next login."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def dummy_hash() -> str:
    return _hasher.hash("kdash-timing-equaliser")
