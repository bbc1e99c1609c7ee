"""US Federal Reserve banking days, New York cut-offs and ISO 8601 durations (formats.md §7).

Every function here is pure: it never reads a clock. Instants are timezone-aware datetimes
(results are UTC); business dates are plain ``date`` values in ``America/New_York``.

Federal Reserve holidays are the 11 on the Fed's holiday schedule (formats.md §7): New Year's
Day, Birthday of Martin Luther King, Jr., Washington's Birthday, Memorial Day, Juneteenth
National Independence Day (only from 2022, the first year the Fed closed for it), Independence
Day, Labor Day, Columbus Day, Veterans Day, Thanksgiving Day and Christmas Day. The Fed's
observance rule differs from the federal-employee (OPM) rule: a holiday falling on **Sunday**
closes the Fed on the following Monday, but a holiday falling on **Saturday is not moved** --
the Fed is open on the Friday before (e.g. Fri 2026-07-03, Fri 2027-12-24 and Fri 2027-12-31
are banking days). Executive-order closures of federal agencies (Christmas Eve, days of
mourning) are not Fed holidays. The rules are today's; they are not a historical record for
years before 2000.

A banking day is a Monday to Friday that is not a Fed holiday. Daylight-saving transitions in
New York happen at 02:00 on Sundays, so they never fall on a banking day; wall-clock times that
do not exist or occur twice are still resolved deterministically with ``fold=0``.
"""

import calendar as _gregorian
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo

TZ: Final = ZoneInfo("America/New_York")

_MON, _THU, _SAT, _SUN = 0, 3, 5, 6
_JUNETEENTH_FIRST_FED_YEAR: Final = 2022
_OBSERVED_SUFFIX: Final = " (observed)"


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month, _gregorian.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


@lru_cache(maxsize=512)
def _holiday_table(year: int) -> MappingProxyType[date, str]:
    fixed = [
        (date(year, 1, 1), "New Year's Day"),
        (date(year, 7, 4), "Independence Day"),
        (date(year, 11, 11), "Veterans Day"),
        (date(year, 12, 25), "Christmas Day"),
    ]
    if year >= _JUNETEENTH_FIRST_FED_YEAR:
        fixed.append((date(year, 6, 19), "Juneteenth National Independence Day"))
    table = dict(fixed)
    for day, name in fixed:
        # Sunday -> also closed Monday; Saturday -> not moved (formats.md §7).
        if day.weekday() == _SUN:
            table[day + timedelta(days=1)] = name + _OBSERVED_SUFFIX
    table[_nth_weekday(year, 1, _MON, 3)] = "Birthday of Martin Luther King, Jr."
    table[_nth_weekday(year, 2, _MON, 3)] = "Washington's Birthday"
    table[_last_weekday(year, 5, _MON)] = "Memorial Day"
    table[_nth_weekday(year, 9, _MON, 1)] = "Labor Day"
    table[_nth_weekday(year, 10, _MON, 2)] = "Columbus Day"
    table[_nth_weekday(year, 11, _THU, 4)] = "Thanksgiving Day"
    return MappingProxyType(dict(sorted(table.items())))


def _check_date(d: date) -> None:
    # datetime is a date subclass but never equals a date, so a holiday lookup would miss.
    if isinstance(d, datetime):
        raise TypeError("expected a date, got a datetime; use local_date() first")


def _check_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")


def _check_wall_time(t: time) -> None:
    if t.tzinfo is not None:
        raise ValueError("wall-clock time must be naive (it is read in America/New_York)")


def fed_holidays(year: int) -> dict[date, str]:
    """Map the Fed holiday dates of ``year`` to their names, sorted by date.

    Each holiday appears on its calendar date even when that is a weekend (the Fed is closed
    then anyway); a fixed-date holiday on a Sunday adds the following Monday as
    ``"<name> (observed)"``. A Saturday holiday adds nothing, so that year has no weekday
    closure for it. Cached per year; the returned dict is a fresh copy the caller may modify.
    """
    return dict(_holiday_table(year))


def is_banking_day(d: date) -> bool:
    """True for Monday to Friday when the Fed is not closed for a holiday."""
    _check_date(d)
    return d.weekday() < _SAT and d not in _holiday_table(d.year)


def next_banking_day(d: date) -> date:
    """Return the first banking day strictly after ``d``."""
    _check_date(d)
    d += timedelta(days=1)
    while not is_banking_day(d):
        d += timedelta(days=1)
    return d


def previous_banking_day(d: date) -> date:
    """Return the last banking day strictly before ``d``."""
    _check_date(d)
    d -= timedelta(days=1)
    while not is_banking_day(d):
        d -= timedelta(days=1)
    return d


def add_banking_days(d: date, n: int) -> date:
    """Move ``n`` banking days from ``d``.

    ``n > 0``: the n-th banking day after ``d`` (Sat + 1 and Fri + 1 are both the next Monday,
    holidays permitting); ``n == 0``: ``d`` itself if it is a banking day, else the next one;
    ``n < 0``: the |n|-th banking day before ``d``.
    """
    _check_date(d)
    if n == 0:
        return d if is_banking_day(d) else next_banking_day(d)
    step = next_banking_day if n > 0 else previous_banking_day
    for _ in range(abs(n)):
        d = step(d)
    return d


def local_date(instant: datetime) -> date:
    """Return the New York calendar date of an aware instant; ValueError if naive."""
    _check_aware(instant)
    return instant.astimezone(TZ).date()


def local_datetime(instant: datetime) -> datetime:
    """Return the New York wall-clock time of an aware instant, naive, to the second (the form
    accounting systems take without a zone); ValueError if naive."""
    _check_aware(instant)
    return instant.astimezone(TZ).replace(tzinfo=None, microsecond=0)


def at_local(d: date, t: time) -> datetime:
    """Return the UTC instant at which New York wall clocks show ``t`` on ``d``.

    ``t`` must be naive. Its ``fold`` is ignored and ``fold=0`` is used: a wall time that
    occurs twice (the fall-back hour) resolves to the first occurrence (EDT), and a wall time
    that does not exist (the spring-forward gap) is read with the offset in force before the
    transition, e.g. 02:30 on 2026-03-08 is 07:30 UTC (03:30 EDT).
    """
    _check_date(d)
    _check_wall_time(t)
    return datetime.combine(d, t.replace(fold=0), tzinfo=TZ).astimezone(UTC)


def business_date(instant: datetime, cutoff: time) -> date:
    """Return the banking day an instant belongs to, given a New York wall-clock cut-off.

    That is the instant's New York date if it is a banking day and the local time is strictly
    before ``cutoff``; otherwise (including exactly at the cut-off) the next banking day after
    that local date.
    """
    _check_aware(instant)
    _check_wall_time(cutoff)
    local = instant.astimezone(TZ)
    day = local.date()
    if is_banking_day(day) and local.time() < cutoff:
        return day
    return next_banking_day(day)


def next_cutoff(after: datetime, cutoff: time) -> datetime:
    """Return the first instant strictly after ``after`` that is ``cutoff`` in New York on a
    banking day, as an aware UTC datetime (wall time resolved as in ``at_local``)."""
    _check_aware(after)
    _check_wall_time(cutoff)
    day = local_date(after)
    if not is_banking_day(day):
        day = next_banking_day(day)
    while (candidate := at_local(day, cutoff)) <= after:
        day = next_banking_day(day)
    return candidate


# Nominal Gregorian lengths, used only to cap the size of a duration.
_SECONDS_PER_YEAR: Final = 31_556_952  # 365.2425 days
_SECONDS_PER_MONTH: Final = _SECONDS_PER_YEAR // 12
_MAX_DURATION_YEARS: Final = 100
_MAX_DURATION_TEXT: Final = 64

_DURATION_RE: Final = re.compile(
    r"P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?"
    r"(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)S)?)?",
    re.ASCII,
)


@dataclass(frozen=True)
class Duration:
    """A non-negative ISO 8601 duration with whole-number components.

    The nominal total (a year counted as 365.2425 days, a month as a twelfth of that) may not
    exceed 100 years.
    """

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: int = 0

    def __post_init__(self) -> None:
        for name in ("years", "months", "weeks", "days", "hours", "minutes", "seconds"):
            value = getattr(self, name)
            if type(value) is not int:
                raise ValueError(f"Duration.{name} must be an int, got {value!r}")
            if value < 0:
                raise ValueError(f"Duration.{name} must not be negative, got {value}")
        if self.nominal_seconds() > _MAX_DURATION_YEARS * _SECONDS_PER_YEAR:
            raise ValueError(f"duration longer than {_MAX_DURATION_YEARS} years")

    def nominal_seconds(self) -> int:
        """Approximate length in seconds (Gregorian average year and month)."""
        return (
            self.years * _SECONDS_PER_YEAR
            + self.months * _SECONDS_PER_MONTH
            + self.weeks * 604_800
            + self.days * 86_400
            + self.hours * 3_600
            + self.minutes * 60
            + self.seconds
        )

    def isoformat(self) -> str:
        """Return the canonical ISO 8601 text (``PT0S`` for zero); parse_duration reads it back."""
        date_part = "".join(
            f"{value}{unit}"
            for value, unit in (
                (self.years, "Y"),
                (self.months, "M"),
                (self.weeks, "W"),
                (self.days, "D"),
            )
            if value
        )
        time_part = "".join(
            f"{value}{unit}"
            for value, unit in ((self.hours, "H"), (self.minutes, "M"), (self.seconds, "S"))
            if value
        )
        if not date_part and not time_part:
            return "PT0S"
        return "P" + date_part + ("T" + time_part if time_part else "")


def parse_duration(text: str) -> Duration:
    """Parse ``PnYnMnWnDTnHnMnS`` (any non-empty subset, in that order, uppercase, integers).

    Raises ValueError for anything else: empty text, ``P``/``PT`` alone, a trailing ``T``, signs,
    fractions, whitespace, lowercase designators, components out of order or repeated, and
    durations longer than 100 years.
    """
    if len(text) > _MAX_DURATION_TEXT:
        raise ValueError(f"invalid ISO 8601 duration {text[:_MAX_DURATION_TEXT]!r}...")
    match = _DURATION_RE.fullmatch(text)
    if match is None or text.endswith("T") or all(g is None for g in match.groups()):
        raise ValueError(f"invalid ISO 8601 duration {text!r}")
    y, mo, w, d, h, mi, s = (int(g) if g is not None else 0 for g in match.groups())
    return Duration(years=y, months=mo, weeks=w, days=d, hours=h, minutes=mi, seconds=s)


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month0 = divmod(index, 12)
    day = min(d.day, _gregorian.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


def add_duration(instant: datetime, d: Duration) -> datetime:
    """Add a duration to an aware instant and return the result as an aware UTC datetime.

    Years, months, weeks and days move the New York wall-clock date and keep the wall-clock
    time of day, so P1D across a DST change is 23 or 25 elapsed hours. Months and years clamp
    the day to the target month's length (Jan 31 + P1M = Feb 28/29, Feb 29 + P1Y = Feb 28).
    The new wall time is resolved with ``fold=0`` as in ``at_local``. Hours, minutes and
    seconds are then added as exact elapsed time (PT24H is always 86,400 s). With no calendar
    component the instant is not re-read from the wall clock, so no fold is lost. Raises
    ValueError if the result is outside the supported date range.
    """
    _check_aware(instant)
    try:
        result = instant.astimezone(UTC)
        if d.years or d.months or d.weeks or d.days:
            local = instant.astimezone(TZ)
            new_day = _add_months(local.date(), 12 * d.years + d.months)
            new_day += timedelta(weeks=d.weeks, days=d.days)
            result = datetime.combine(new_day, local.time().replace(fold=0), tzinfo=TZ)
            result = result.astimezone(UTC)
        return result + timedelta(hours=d.hours, minutes=d.minutes, seconds=d.seconds)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"{instant.isoformat()} + {d.isoformat()} is out of range") from exc
