"""Accounts, signed-in sessions and failed sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from kdash.domain.vocab import (
    Role,
)
from kdash.storage.models.base import Base, _one_of


class User(Base):
    __tablename__ = "app_user"
    __table_args__ = (_one_of("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    #: A demo account (public password): refused at sign-in once the database holds a real patient.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class UserSession(Base):
    """A signed-in browser session, held on the server so it can be ended everywhere at once.

    The browser holds an opaque random token in an HttpOnly cookie; only its SHA-256 is stored, so a
    copy of the database cannot be replayed as a login. The token is minted when the one-time hand-off
    made at sign-in is redeemed (``handoff_hash``, cleared then). A row is never deleted: ``ended_at``
    and ``end_reason`` (sign-out, idle, expired, disabled) say when and why it stopped being valid.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="RESTRICT"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str | None] = mapped_column(String(16))


class LoginFailure(Base):
    """One failed sign-in of a client (the SHA-256 of its address or browser session), for the per-client
    throttle every app server shares (kdash.services.login_throttle, migration 0013)."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_client", "client_hash", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_hash: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(DateTime)
