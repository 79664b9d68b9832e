"""Every model, imported once so that the metadata is complete (Alembic, tests)."""

from portal.accounts.caveats import Caveat, UserCaveat
from portal.accounts.models import (
    Clearance,
    Invitation,
    LoginAttempt,
    LoginLockout,
    LoginSession,
    Organization,
    RecoveryCode,
    User,
    UserRole,
)
from portal.db import Base
from portal.documents.models import (
    AttachmentChunk,
    Document,
    DocumentAttachment,
    DocumentCaveat,
    DocumentComment,
    DocumentReader,
    DocumentReclassification,
    DocumentVersion,
)
from portal.meta import PortalMeta
from portal.rooms.models import Membership, Subcommittee
from portal.search.models import SearchToken
from portal.security.audit_models import AuditChainHead, AuditEntry
from portal.security.key_models import DataKeyRecord
from portal.thinktank.models import OutputAttachment, OutputCaveat, ThinkTankOutput

__all__ = [
    "AttachmentChunk",
    "AuditChainHead",
    "AuditEntry",
    "Base",
    "Caveat",
    "Clearance",
    "DataKeyRecord",
    "Document",
    "DocumentAttachment",
    "DocumentCaveat",
    "DocumentComment",
    "DocumentReader",
    "DocumentReclassification",
    "DocumentVersion",
    "Invitation",
    "LoginAttempt",
    "LoginLockout",
    "LoginSession",
    "Membership",
    "Organization",
    "OutputAttachment",
    "OutputCaveat",
    "PortalMeta",
    "RecoveryCode",
    "SearchToken",
    "Subcommittee",
    "ThinkTankOutput",
    "User",
    "UserCaveat",
    "UserRole",
]
