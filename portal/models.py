"""Every model, imported once so that the metadata is complete (Alembic, tests)."""

from portal.accounts.models import (
    Clearance,
    LoginAttempt,
    LoginLockout,
    LoginSession,
    Organization,
    RecoveryCode,
    User,
    UserRole,
)
from portal.db import Base
from portal.meta import PortalMeta
from portal.rooms.models import Membership, Subcommittee

__all__ = [
    "Base",
    "Clearance",
    "LoginAttempt",
    "LoginLockout",
    "LoginSession",
    "Membership",
    "Organization",
    "PortalMeta",
    "RecoveryCode",
    "Subcommittee",
    "User",
    "UserRole",
]
