"""A workspace's clock, from a test: read it, advance it (every job that falls due runs, in time
order, and is returned), and check it stands still.

The portal's workspace clock has two modes, fixed when the workspace is created: ``simulated``
(the default: frozen until advanced) and ``real`` (the wall clock plus what was advanced). The
server has no call that changes the mode afterwards, so ``freeze()`` confirms a frozen clock
and refuses a real one; create the workspace with ``clock={"mode": "simulated"}`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from portal.testing._http import expect

if TYPE_CHECKING:
    from portal.testing.workspace import PortalWorkspace


class PortalClockError(AssertionError):
    """What the test asked of the clock cannot be done (``freeze()`` of a ``real`` clock)."""


@dataclass(frozen=True)
class JobRun:
    """A job an advance ran: ``name`` (``payments.cutoff``, ``reports.batch_deposit_report``...),
    ``source`` (``calendar`` or ``event``), when it fell due and ran, and what it did."""

    name: str
    source: str
    due_at: datetime
    ran_at: datetime
    result: dict[str, Any]

    @classmethod
    def of(cls, data: dict[str, Any]) -> JobRun:
        return cls(
            name=data["name"],
            source=data["source"],
            due_at=_instant(data["due_at"]),
            ran_at=_instant(data["ran_at"]),
            result=data.get("result") or {},
        )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("the portal takes instants with an offset (e.g. tzinfo=UTC)")
    return value.isoformat()


def _duration(value: str | timedelta) -> str:
    if isinstance(value, str):
        return value
    seconds = value.total_seconds()
    if seconds != int(seconds) or seconds < 0:
        raise ValueError("a timedelta to advance by is a whole, positive number of seconds")
    # Elapsed time: PT86400S is 24 h even across a DST change (P1D keeps the time of day).
    return f"PT{int(seconds)}S"


class PortalClock:
    """The clock of one workspace (``GET``/``POST /v1/sandbox/workspaces/{ws}/clock``)."""

    def __init__(self, workspace: PortalWorkspace) -> None:
        self._workspace = workspace

    def read(self) -> dict[str, Any]:
        """The clock as the server shows it: ``mode``, ``now``, ``timezone``,
        ``business_date``, ``is_banking_day``."""
        ws = self._workspace
        found: dict[str, Any] = expect(ws.operator.get(f"{ws.path}/clock"), "reading the clock")
        return found

    def now(self) -> datetime:
        """The workspace's current instant (aware, UTC)."""
        return _instant(self.read()["now"])

    def business_date(self) -> date:
        """The business date a payment made now would get."""
        return date.fromisoformat(self.read()["business_date"])

    @property
    def mode(self) -> str:
        """``simulated`` (frozen until advanced) or ``real``."""
        mode: str = self.read()["mode"]
        return mode

    def advance(
        self,
        by: str | timedelta | None = None,
        *,
        to: datetime | str | None = None,
        banking_days: int | None = None,
    ) -> list[JobRun]:
        """Move the clock forward by exactly one of ``by`` (ISO 8601: ``"P1D"``, ``"PT2H"``, or
        a ``timedelta`` of elapsed time), ``to`` (an aware instant) or ``banking_days``;
        returns the jobs that ran, in the order they ran."""
        given = {"by": by, "to": to, "banking_days": banking_days}
        if sum(v is not None for v in given.values()) != 1:
            raise TypeError("advance() takes exactly one of by=, to=, banking_days=")
        body: dict[str, Any]
        if by is not None:
            body = {"by": _duration(by)}
        elif to is not None:
            body = {"to": _iso(to)}
        else:
            body = {"banking_days": banking_days}
        ws = self._workspace
        advanced = expect(
            ws.operator.post(f"{ws.path}/clock/advance", json=body), "advancing the clock"
        )
        return [JobRun.of(job) for job in advanced["jobs"]]

    def freeze(self) -> datetime:
        """Make sure the clock stands still between advances; returns its instant.

        A ``simulated`` clock is frozen already. A ``real`` one cannot be switched (the server
        has no such call): :class:`PortalClockError`."""
        clock = self.read()
        if clock["mode"] != "simulated":
            raise PortalClockError(
                f"workspace {self._workspace.id}'s clock is {clock['mode']!r} and the portal "
                "cannot switch it; create the workspace with clock={'mode': 'simulated'} "
                "(@pytest.mark.portal_workspace(clock={'mode': 'simulated', 'now': ...}))"
            )
        return _instant(clock["now"])
