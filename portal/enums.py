"""Vocabulary shared by models, forms and the policy (no Flask, no SQLAlchemy)."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class OrganizationKind(StrEnum):
    SECRETARIAT = "secretariat"
    GOVERNMENT = "government"
    PRIVATE = "private"
    THINK_TANK = "think_tank"
    ACADEMIA = "academia"


class Sector(StrEnum):
    """The sector an organisation speaks for (policy-coordination rooms look for the missing voices)."""

    ENERGY = "energy"
    TELECOM = "telecom"
    FINANCE = "finance"
    SEMICONDUCTORS = "semiconductors"
    SHIPBUILDING = "shipbuilding"
    SHIPPING = "shipping"
    MATERIALS = "materials"
    AI_IT = "ai_it"
    ACADEMIA = "academia"
    GOVERNMENT = "government"
    THINK_TANK = "think_tank"


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


class ReleaseMarking(StrEnum):
    """Traffic Light Protocol 2.0: how far a recipient may pass an item on (sharing and export)."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


#: Most restrictive last: an item built from parts takes the most restrictive marking of them.
RELEASE_ORDER = [
    ReleaseMarking.CLEAR,
    ReleaseMarking.GREEN,
    ReleaseMarking.AMBER,
    ReleaseMarking.AMBER_STRICT,
    ReleaseMarking.RED,
]


class CaveatKind(StrEnum):
    #: 政府限り: readable only by people of government and secretariat organisations.
    GOV_ONLY = "gov_only"
    #: A topic compartment: the reader must hold it.
    COMPARTMENT = "compartment"


GOV_ONLY_CODE = "GOV_ONLY"
