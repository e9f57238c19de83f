"""Passwords: hashing, verification and the clinic's password policy; user-name rules.

Passwords are hashed with Argon2id (argon2-cffi: the Password Hashing Competition winner, maintained,
OWASP's first choice); a hash is never compared by hand.

The policy follows NIST SP 800-63B §5.1.1.2: a password is NFKC-normalised before it is checked and
hashed (the same characters typed on another keyboard give the same password), it is 12 to 128
characters long, it is not whitespace or invisible characters, and it is not guessable: zxcvbn (Dropbox's
estimator, maintained as the ``zxcvbn`` package, with its lists of common passwords, names and keyboard
walks) is given the user's own name, the clinic's name and the words of this domain as context, and a
password it scores below the policy's strength is refused with its advice. No composition rules.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kdash.domain.policy import ClinicPolicy

_hasher = PasswordHasher()

#: NIST SP 800-63B §5.1.1.2: verifiers should permit at least 64 characters; 128 is kdash's maximum.
PASSWORD_MAX_LENGTH = 128
#: Words anyone guessing a kdash password would try first (context-specific words, §5.1.1.2).
CONTEXT_WORDS = ("kdash", "ketamine", "infusion", "clinic", "dashboard", "provider", "nurse", "admin")


def normalise(password: str) -> str:
    """NFKC, as NIST SP 800-63B §5.1.1.2 asks before a password is hashed or compared."""
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(normalise(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, normalise(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_policy(password: str, settings: ClinicPolicy, context: Sequence[str] = ()) -> None:
    """Refuse a password NIST SP 800-63B would: too short or long after NFKC, blank or invisible
    characters, or guessable (common, or built from ``context``: the user's name, the clinic's)."""
    text = normalise(password)
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        raise ValueError("The password holds invisible or control characters; use visible ones.")
    if not text.strip():
        raise ValueError("The password is only spaces; use words or characters you can see.")
    if len(text) < settings.password_min_length:
        raise ValueError(
            f"The password must have at least {settings.password_min_length} characters (it has {len(text)})."
        )
    if len(text) > PASSWORD_MAX_LENGTH:
        raise ValueError(
            f"The password may have at most {PASSWORD_MAX_LENGTH} characters (it has {len(text):,})."
        )
    from zxcvbn import zxcvbn  # loads its word lists on first use

    words = [w for w in (*context, settings.clinic_name, *CONTEXT_WORDS) if w]
    result = zxcvbn(text, user_inputs=words, max_length=PASSWORD_MAX_LENGTH)
    if result["score"] < settings.password_min_strength:
        feedback = result.get("feedback") or {}
        advice = " ".join(filter(None, [feedback.get("warning"), *(feedback.get("suggestions") or [])]))
        raise ValueError(
            "The password is too easy to guess (a common password, a pattern, or built from a name "
            f"or word of this clinic). {advice}".strip()
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
