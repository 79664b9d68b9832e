"""Japanese first, English second: the locale of a request and the translated vocabulary."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from flask import current_app
from flask_babel import Babel, LazyString, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.accounts.timezones import in_zone, zone_named
from portal.enums import OrganizationKind, ReleaseMarking, Role, RoomRole, Sector, SubcommitteeKind
from portal.security.web import current_session

babel = Babel()


def select_locale() -> str:
    supported = current_app.config["PORTAL_SETTINGS"].locales
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return str(current_user.locale)
    chosen = current_session().get("locale")
    if chosen in supported:
        return str(chosen)
    return str(current_app.config["PORTAL_SETTINGS"].default_locale)


def select_timezone() -> str:
    """The signed-in user's own zone (User.time_zone); the configured one before sign-in."""
    return user_time_zone().key


def user_time_zone() -> ZoneInfo:
    if current_user and current_user.is_authenticated:
        return zone_named(current_user.time_zone)
    return zone_named(str(current_app.config["PORTAL_SETTINGS"].timezone))


def format_local_time(moment: datetime | None, style: str = "full", minutes: int | None = None) -> str:
    """An aware datetime on the current user's wall clock, with the zone's name, e.g.
    「2026年12月9日水曜日 10:00 (Asia/Tokyo)」; with ``minutes``, the end time too (「10:00–12:00」)."""
    if moment is None:
        return ""
    zone = user_time_zone()
    local = in_zone(moment, zone)
    locale = str(get_locale() or "ja")
    day = babel_dates.format_date(local.date(), style, locale=locale)
    start = babel_dates.format_time(local, "short", tzinfo=zone, locale=locale)
    if minutes is not None:
        end = in_zone(moment + timedelta(minutes=minutes), zone)
        end_text = babel_dates.format_time(end, "short", tzinfo=zone, locale=locale)
        if end.date() != local.date():
            end_text = f"{babel_dates.format_date(end.date(), 'medium', locale=locale)} {end_text}"
        start = f"{start}–{end_text}"
    return _("%(date)s %(time)s (%(zone)s)", date=day, time=start, zone=zone.key)


SUBCOMMITTEE_KIND_LABELS: dict[SubcommitteeKind, LazyString] = {
    SubcommitteeKind.RAPID_RESPONSE: _l("Rapid response"),
    SubcommitteeKind.POLICY_COORDINATION: _l("Policy coordination"),
    SubcommitteeKind.RISK_REVIEW: _l("Risk review"),
}

SUBCOMMITTEE_KIND_PURPOSES: dict[SubcommitteeKind, LazyString] = {
    SubcommitteeKind.RAPID_RESPONSE: _l("Grasps a materialised risk and decides countermeasures, fast."),
    SubcommitteeKind.POLICY_COORDINATION: _l(
        "Cross-industry risks not yet visible; medium- to long-term responses."
    ),
    SubcommitteeKind.RISK_REVIEW: _l("Reviews assumed risk scenarios and measures periodically."),
}

ROLE_LABELS: dict[Role, LazyString] = {
    Role.SECRETARIAT: _l("Secretariat"),
    Role.MEMBER: _l("Member"),
    Role.ANALYST: _l("Think-tank analyst"),
    Role.AUDITOR: _l("Auditor"),
    Role.ADMIN: _l("System administrator"),
}

ROOM_ROLE_LABELS: dict[RoomRole, LazyString] = {
    RoomRole.CHAIR: _l("Chair"),
    RoomRole.MEMBER: _l("Member"),
    RoomRole.OBSERVER: _l("Observer"),
}

ORGANIZATION_KIND_LABELS: dict[OrganizationKind, LazyString] = {
    OrganizationKind.SECRETARIAT: _l("Secretariat"),
    OrganizationKind.GOVERNMENT: _l("Government"),
    OrganizationKind.PRIVATE: _l("Private company"),
    OrganizationKind.THINK_TANK: _l("Think tank"),
    OrganizationKind.ACADEMIA: _l("Academia"),
}

SECTOR_LABELS: dict[Sector, LazyString] = {
    Sector.ENERGY: _l("Energy"),
    Sector.TELECOM: _l("Telecommunications"),
    Sector.FINANCE: _l("Finance"),
    Sector.SEMICONDUCTORS: _l("Semiconductors"),
    Sector.SHIPBUILDING: _l("Shipbuilding"),
    Sector.SHIPPING: _l("Shipping"),
    Sector.MATERIALS: _l("Materials"),
    Sector.AI_IT: _l("AI and IT"),
    Sector.ACADEMIA: _l("Academia (sector)"),
    Sector.GOVERNMENT: _l("Government (sector)"),
    Sector.THINK_TANK: _l("Think tank (sector)"),
}

LEVEL_LABELS = {
    0: _l("Public"),
    1: _l("Restricted"),
    2: _l("Confidential"),
    3: _l("Critical Economic Security Information"),
}

LOCALE_NAMES = {"ja": "日本語", "en": "English"}

RELEASE_LABELS: dict[ReleaseMarking, LazyString] = {
    ReleaseMarking.CLEAR: _l("TLP:CLEAR (public)"),
    ReleaseMarking.GREEN: _l("TLP:GREEN (the council)"),
    ReleaseMarking.AMBER: _l("TLP:AMBER (named organisations)"),
    ReleaseMarking.AMBER_STRICT: _l("TLP:AMBER+STRICT (reader's organisation only)"),
    ReleaseMarking.RED: _l("TLP:RED (named readers only)"),
}

#: What a user is told when the policy refuses something they tried (not for concealed reads).
REASON_MESSAGES: dict[str, LazyString] = {
    "NOT_MEMBER": _l("You are not a member of this subcommittee."),
    "OBSERVER_READ_ONLY": _l("Observers can read but not add material."),
    "ROLE_NO_CONTENT": _l("Your role does not read or write council material."),
    "ROOM_LEVEL_EXCEEDED": _l("This subcommittee may not hold material at that level."),
    "CLASSIFY_ABOVE_CLEARANCE": _l("You cannot classify above your own clearance."),
    "CAVEAT_NOT_HELD": _l("You cannot apply a caveat you do not hold."),
    "REASON_REQUIRED": _l("A reason is required at Confidential and above."),
    "READER_NOT_MEMBER": _l("Every named reader must be a member of the subcommittee."),
    "CESI_NEEDS_READERS": _l("Critical Economic Security Information must name its readers."),
    "SELF_GRANT": _l("Nobody can grant anything to themselves."),
    "NOT_SECRETARIAT": _l("Only the secretariat can do this."),
    "NOT_AUDITOR": _l("Only auditors can do this."),
    "ACCOUNT_SUSPENDED": _l("Your account is suspended."),
    "DECLASSIFY_SEPARATELY": _l("Making a document public is a separate declassification."),
    "ALREADY_PUBLIC": _l("This document is already public."),
    "CESI_NOT_DECLASSIFIED_HERE": _l(
        "Critical Economic Security Information is not declassified in the portal; "
        "the designating body lifts the designation."
    ),
    "NOT_CLASSIFICATION_AUTHORITY": _l(
        "Only the chair, the secretariat or the person who classified the document can declassify it."
    ),
}
