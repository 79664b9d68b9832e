"""A user's time zone: the zones offered, checking one, and moving between a local wall clock and UTC.

Times are stored in UTC and shown in the reader's zone (``User.time_zone``, Asia/Tokyo by default); a date
and time typed in a form are read in the typing user's zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "Asia/Tokyo"

#: The zones offered on the account page: where council members are posted (embassies, head offices,
#: partner governments), Tokyo first. Any other IANA zone is refused rather than guessed at.
COMMON_TIME_ZONES: tuple[str, ...] = (
    "Asia/Tokyo",
    "UTC",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Bangkok",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Europe/London",
    "Europe/Brussels",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Pacific/Honolulu",
)


def is_valid_zone(name: str) -> bool:
    """One of the offered zones, and one this machine's zoneinfo knows."""
    if name not in COMMON_TIME_ZONES:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone_named(name: str | None) -> ZoneInfo:
    """The zone of that name, or Tokyo's for an empty or unknown one (a stored value is never trusted)."""
    if name and is_valid_zone(name):
        return ZoneInfo(name)
    return ZoneInfo(DEFAULT_TIME_ZONE)


class NonexistentLocalTime(ValueError):
    """The wall-clock time does not exist in that zone (the hour skipped when summer time starts)."""


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A date and time typed by someone in ``zone``, as an aware UTC datetime. An ambiguous time (the hour
    repeated when summer time ends) is read as the first of the two; a skipped time is refused."""
    local = datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone)
    in_utc = local.astimezone(UTC)
    if in_utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise NonexistentLocalTime(f"{local.isoformat()} does not exist in {zone.key}")
    return in_utc


def in_zone(moment: datetime, zone: ZoneInfo) -> datetime:
    """An aware datetime on the wall clock of ``zone`` (a naive one is taken to be UTC, as stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)
