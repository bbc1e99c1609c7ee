"""The only module that reads the system time (architecture.md §4, style.md B6).

Every workspace has its own clock, stored in the database: ``simulated`` (frozen until advanced)
or ``real`` (the system time plus an offset that advancing grows). ``workspace_now`` resolves a
workspace's instant from its stored state and a process ``Clock``. Routes read ``now`` once and
pass it down; services never read a clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol


class ClockMode(StrEnum):
    SIMULATED = "simulated"
    """Frozen until the operator advances it."""
    REAL = "real"
    """Follows the system time, shifted by however far the operator has advanced it."""


class Clock(Protocol):
    def now(self) -> datetime:
        """A timezone-aware UTC instant."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A process clock for tests: stands still until ``set`` or ``advance`` moves it."""

    def __init__(self, instant: datetime) -> None:
        self._now = to_utc(instant)

    def now(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = to_utc(instant)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def timestamp_of(clock: Clock) -> Callable[[], float]:
    """The clock's instant as POSIX seconds, for a caller that reads it on every request (the
    request journal): the system clock's is ``time.time``, a C call, not a ``datetime``."""
    if type(clock) is SystemClock:
        return time.time
    return lambda: clock.now().timestamp()


def to_utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instants must carry a time zone offset")
    return instant.astimezone(UTC)


def as_aware(instant: datetime) -> datetime:
    """Re-attach UTC to an instant read back from a database that drops the offset (SQLite)."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def workspace_now(
    *, mode: ClockMode, stored_now: datetime, offset: timedelta, system: Clock
) -> datetime:
    """The instant a workspace is at.

    A ``real`` clock never reads earlier than its stored instant, so it cannot appear to move
    backwards across restarts or between workers with slightly different system clocks.
    """
    stored = as_aware(stored_now)
    if mode is ClockMode.SIMULATED:
        return stored
    return max(stored, system.now() + offset)
