"""Organisations, users and what proves who they are."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, UUIDPrimaryKey, utcnow
from portal.enums import ClearanceBasis, Level, OrganizationKind, Role, Sector
from portal.models_util import LevelType, enum_column_type, model_repr
from portal.security.crypto import FieldContext

if TYPE_CHECKING:
    from portal.rooms.models import Membership


class Organization(UUIDPrimaryKey, Base):
    __tablename__ = "organizations"

    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganizationKind] = mapped_column(enum_column_type(OrganizationKind))
    #: 適合事業者 certificate reference; only private organisations carry one.
    qualification_reference: Mapped[str | None] = mapped_column(String(100))
    #: Last day on which the qualification is valid (inclusive).
    qualified_until: Mapped[date | None] = mapped_column(Date)
    qualification_revoked_at: Mapped[datetime | None]
    #: The sector the organisation speaks for (policy-coordination rooms show whose voice is missing).
    sector: Mapped[Sector | None] = mapped_column(enum_column_type(Sector, length=32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organization")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_ja

    def __repr__(self) -> str:
        return model_repr(self, "name_en", "kind")


class User(UUIDPrimaryKey, Base):
    __tablename__ = "users"

    #: Stored lower-cased and NFKC-normalised; the sign-in form normalises the same way.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    #: argon2id hash; None until an invited user sets a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    #: IANA time zone meetings are shown in (they are kept in UTC and scheduled in Asia/Tokyo by default).
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Tokyo", server_default="Asia/Tokyo")
    #: Suspended users cannot sign in and lose every session at once.
    is_suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Base32 TOTP secret (RFC 6238), sealed with the system ``personal`` key.
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    mfa_enrolled_at: Mapped[datetime | None]
    #: Highest TOTP time step accepted so far: a code at or below it is a replay.
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    #: Created by `portal demo load`; only such accounts answer `portal demo totp`.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship(back_populates="users", lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="user"
    )
    memberships: Mapped[list[Membership]] = relationship(back_populates="user")
    clearances: Mapped[list[Clearance]] = relationship(
        back_populates="user", foreign_keys="Clearance.user_id", order_by="Clearance.granted_at"
    )

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(row.role for row in self.role_rows)

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    # The four members Flask-Login expects (kept here so models import nothing from Flask).
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return not self.is_suspended

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def mfa_enrolled(self) -> bool:
        return self.totp_secret_sealed is not None and self.mfa_enrolled_at is not None

    def secret_context(self) -> FieldContext:
        return FieldContext("users", "totp_secret", self.id, 0, "user_secret")

    def __repr__(self) -> str:
        return model_repr(self, "email")


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column_type(Role), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class RecoveryCode(UUIDPrimaryKey, Base):
    """A single-use MFA recovery code; only its SHA-256 is kept (the code has 50 bits of randomness)."""

    __tablename__ = "recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class Clearance(UUIDPrimaryKey, Base):
    """A clearance as recorded by the secretariat. The newest unrevoked, unexpired one counts."""

    __tablename__ = "clearances"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    level: Mapped[Level] = mapped_column(LevelType())
    basis: Mapped[ClearanceBasis] = mapped_column(enum_column_type(ClearanceBasis))
    #: Reference of the suitability evaluation (適性評価) when the basis is one; sealed (personal key).
    evaluation_reference_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    evaluated_on: Mapped[date | None] = mapped_column(Date)
    granted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    #: Why it was granted, renewed or revoked (no content of any document).
    reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(back_populates="clearances", foreign_keys=[user_id])

    def reference_context(self) -> FieldContext:
        """Opened with a grant for the cleared user's personal secrets."""
        return FieldContext(
            "clearances", "evaluation_reference", self.id, int(self.level), "user_secret", self.user_id
        )

    def is_current(self, now: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.expires_at is None or self.expires_at > now


class LoginSession(UUIDPrimaryKey, Base):
    """A server-side session. The cookie carries a random token; only its SHA-256 is stored here."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: None for an anonymous session (it holds only the CSRF token and a language choice).
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: anonymous -> mfa (password accepted) or enrol (no MFA yet) -> active (fully signed in)
    stage: Mapped[str] = mapped_column(String(16), default="anonymous")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Start of the signed-in period, for the absolute timeout.
    authenticated_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    #: Small JSON object: CSRF token, pending enrolment secret, flashed messages.
    data: Mapped[str] = mapped_column(Text, default="{}")


class LoginAttempt(UUIDPrimaryKey, Base):
    __tablename__ = "login_attempts"

    #: The e-mail as typed (normalised), also for unknown accounts: they count toward throttling too.
    email: Mapped[str] = mapped_column(String(254), index=True)
    ip_address: Mapped[str] = mapped_column(String(64), index=True)
    #: success, failure (a wrong password or a wrong second-factor code), throttled
    outcome: Mapped[str] = mapped_column(String(16))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LoginLockout(UUIDPrimaryKey, Base):
    """A refusal period that began when an account or an address reached its failure limit."""

    __tablename__ = "login_lockouts"
    __table_args__ = (UniqueConstraint("scope", "subject", "locked_until"),)

    #: "account" (subject is the e-mail) or "ip" (subject is the address)
    scope: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(254), index=True)
    locked_until: Mapped[datetime]


class Invitation(UUIDPrimaryKey, Base):
    """A one-time link to set a password and enrol MFA. Only the token's SHA-256 is stored."""

    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The account the invitation completes (created with no password when the invitation is made).
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
