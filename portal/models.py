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
from portal.exercises.models import Exercise, ExerciseParticipant, Inject, InjectResponse, RiskFlagRequest
from portal.exports.models import ExportRecord
from portal.meetings.models import (
    ActionItem,
    AgendaItem,
    AgendaLink,
    AgendaRevision,
    AgendaRevisionEntry,
    Attendance,
    CalendarFeed,
    Finding,
    Meeting,
)
from portal.meta import PortalMeta
from portal.minutes.models import Minutes, MinutesRevision, Portion, PortionComment, PortionText
from portal.policywork.models import (
    Milestone,
    Recommendation,
    RecommendationLink,
    RecommendationTransition,
    WorkTheme,
)
from portal.risks.models import Risk, RiskProposal, RiskReview
from portal.rooms.models import Membership, Subcommittee
from portal.search.models import SearchToken
from portal.security.audit_models import AuditChainHead, AuditEntry
from portal.security.key_models import DataKeyRecord
from portal.situation.models import BoardVisit, Countermeasure, CountermeasureTransition, SituationReport
from portal.thinktank.models import OutputAttachment, OutputCaveat, ThinkTankOutput

__all__ = [
    "ActionItem",
    "AgendaItem",
    "AgendaLink",
    "AgendaRevision",
    "AgendaRevisionEntry",
    "AttachmentChunk",
    "Attendance",
    "AuditChainHead",
    "AuditEntry",
    "Base",
    "BoardVisit",
    "CalendarFeed",
    "Caveat",
    "Clearance",
    "Countermeasure",
    "CountermeasureTransition",
    "DataKeyRecord",
    "Document",
    "DocumentAttachment",
    "DocumentCaveat",
    "DocumentComment",
    "DocumentReader",
    "DocumentReclassification",
    "DocumentVersion",
    "Exercise",
    "ExerciseParticipant",
    "ExportRecord",
    "Finding",
    "Inject",
    "InjectResponse",
    "Invitation",
    "LoginAttempt",
    "LoginLockout",
    "LoginSession",
    "Meeting",
    "Membership",
    "Milestone",
    "Minutes",
    "MinutesRevision",
    "Organization",
    "OutputAttachment",
    "OutputCaveat",
    "PortalMeta",
    "Portion",
    "PortionComment",
    "PortionText",
    "Recommendation",
    "RecommendationLink",
    "RecommendationTransition",
    "RecoveryCode",
    "Risk",
    "RiskFlagRequest",
    "RiskProposal",
    "RiskReview",
    "SearchToken",
    "SituationReport",
    "Subcommittee",
    "ThinkTankOutput",
    "User",
    "UserCaveat",
    "UserRole",
    "WorkTheme",
]
