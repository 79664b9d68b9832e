"""Vocabulary shared by models, forms and the policy (no Flask, no SQLAlchemy)."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class OrganizationKind(StrEnum):
    SECRETARIAT = "secretariat"
    GOVERNMENT = "government"
    PRIVATE = "private"
    THINK_TANK = "think_tank"
    ACADEMIA = "academia"


class Role(StrEnum):
    SECRETARIAT = "secretariat"
    MEMBER = "member"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    ADMIN = "admin"


class SubcommitteeKind(StrEnum):
    RAPID_RESPONSE = "rapid_response"
    POLICY_COORDINATION = "policy_coordination"
    RISK_REVIEW = "risk_review"


class RoomRole(StrEnum):
    CHAIR = "chair"
    MEMBER = "member"
    OBSERVER = "observer"


class Level(IntEnum):
    """Classification levels, ordered (DESIGN.md §2)."""

    PUBLIC = 0
    RESTRICTED = 1
    CONFIDENTIAL = 2
    CESI = 3


class ClearanceBasis(StrEnum):
    INTERNAL = "internal"
    SUITABILITY_EVALUATION = "suitability_evaluation"
