"""Rental applications: a resident (usually a prospect) applies for a unit with co-applicants;
the landlord screens and decides; approved applicants reach the accounting client with
``applicant_screening``, which accepts them into its own records (domain.md §8.5; seed 004
"Retrieve Applicants").

- Decisions follow ``APPLICATION_TRANSITIONS``; a denial needs adverse-action reasons and sends
  each applicant a letter with them; an approval tells each applicant.
- Every change to what the client sees takes the next applicant sequence number
  (``modified_seq``: the feed's order and cursor) and stamps ``last_modified``.
- Accepted applicants are frozen: the feed serves their record as it was when accepted, and
  the portal refuses to edit them (409 ``applicant_frozen``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session
from sqlmodel import Session, col

from portal.applicants.models import (
    APPLICATION_TRANSITIONS,
    Applicant,
    ApplicantType,
    Application,
    ApplicationStatus,
)
from portal.auth import service as auth_service
from portal.core import transitions
from portal.core.db import get_row
from portal.core.errors import Conflict, FieldError, NotFound, Unprocessable
from portal.core.ids import IdMinter, reserve
from portal.core.pagination import keyset
from portal.events import service as events
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.properties import service as properties_service
from portal.residents.models import Resident

#: What a landlord or resident may change on one applicant.
APPLICANT_FIELDS = ("name", "email", "phone", "monthly_income_cents", "employer")


class ApplicationNotFound(NotFound):
    code = "application_not_found"


class ApplicantNotFound(NotFound):
    code = "applicant_not_found"


class ApplicantFrozen(Conflict):
    """The accounting client accepted the applicant: "once accepted, an applicant never changes
    on Inosio" (seed 004)."""

    code = "applicant_frozen"


class ReasonsRequired(Unprocessable):
    code = "adverse_action_reasons_required"


class InvalidApplicants(Unprocessable):
    code = "invalid_applicants"


@dataclass(frozen=True)
class NewApplicant:
    name: str
    email: str
    type: ApplicantType
    phone: str | None = None
    monthly_income_cents: int | None = None
    employer: str | None = None


def _next_seq(session: Session, workspace_id: str) -> int:
    return reserve(session, workspace_id, "applicant_seq") + 1


def submit(
    session: Session,
    ids: IdMinter,
    resident: Resident,
    *,
    unit_id: str,
    desired_move_in: date,
    applicants: Sequence[NewApplicant],
    now: datetime,
) -> Application:
    """One application: the first applicant is the primary (``Applicant``), the others are
    ``Co-Applicant``s; the landlord users are told."""
    types = [a.type for a in applicants]
    if (
        not applicants
        or types[0] is not ApplicantType.APPLICANT
        or types.count(ApplicantType.APPLICANT) != 1
    ):
        raise InvalidApplicants(
            "An application has one Applicant, listed first, and any number of Co-Applicants.",
            errors=[FieldError("$.applicants", "one Applicant first, then Co-Applicants")],
        )
    unit = properties_service.get_unit(session, ids.scope, unit_id)
    app = Application(
        workspace_id=ids.scope,
        id=ids.new("application", "app"),
        resident_id=resident.id,
        property_id=unit.property_id,
        unit_id=unit.id,
        desired_move_in=desired_move_in,
        status=ApplicationStatus.SUBMITTED,
        submitted_at=now,
        updated_at=now,
    )
    session.add(app)
    for n, a in enumerate(applicants):
        session.add(
            Applicant(
                workspace_id=ids.scope,
                id=ids.new("applicant", "apl"),
                application_id=app.id,
                position=n,
                type=a.type,
                name=a.name,
                email=a.email.strip().lower(),
                phone=a.phone,
                monthly_income_cents=a.monthly_income_cents,
                employer=a.employer,
                last_modified=now,
                modified_seq=_next_seq(session, ids.scope),
            )
        )
    session.flush()
    events.emit(
        session, ids.scope, "applicant.created", app.id, now=now, data={"status": app.status.value}
    )
    primary = applicants[0]
    notifications.send_many(
        session,
        ids,
        [
            notifications.Message(
                to=to,
                subject=f"New rental application from {primary.name}",
                kind=EmailKind.APPLICATION_RECEIVED,
                body=f"{primary.name} applied for unit {unit.name} with {len(applicants) - 1} "
                f"co-applicant(s), moving in {desired_move_in.isoformat()}.",
                data={"application_id": app.id},
            )
            for to in auth_service.landlord_emails(session, ids.scope)
        ],
        now=now,
    )
    return app


# --- the landlord's screening and decision ------------------------------------------------------


def _move(app: Application, to: ApplicationStatus, now: datetime) -> None:
    transitions.require(APPLICATION_TRANSITIONS, "application", app.status, to)
    app.status = to
    app.updated_at = now
    session = object_session(app)
    if session is not None:
        events.emit(
            session,  # type: ignore[arg-type]  # sqlmodel's Session
            app.workspace_id,
            "applicant.updated",
            app.id,
            now=now,
            data={"status": to.value},
        )


def screen(session: Session, app: Application, *, now: datetime) -> Application:
    """Start screening (the background and credit checks)."""
    _move(app, ApplicationStatus.SCREENING, now)
    session.add(app)
    session.flush()
    return app


def decide(
    session: Session,
    ids: IdMinter,
    app: Application,
    *,
    approve: bool,
    reasons: Sequence[str],
    now: datetime,
) -> Application:
    """Approve (the applicants reach the client's feed) or deny (adverse-action reasons
    required; each applicant gets the letter)."""
    if not approve and not [r for r in reasons if r.strip()]:
        raise ReasonsRequired(
            "A denial states its adverse-action reasons (domain.md: 'Deny requires "
            "adverse-action reasons').",
            errors=[FieldError("$.reasons", "give at least one reason")],
        )
    _move(app, ApplicationStatus.APPROVED if approve else ApplicationStatus.DENIED, now)
    app.decided_at = now
    app.reasons = [] if approve else [r.strip() for r in reasons if r.strip()]
    session.add(app)
    people = applicants_of(session, app.workspace_id, [app.id])[app.id]
    for person in people:
        # The feed shows an approved application's applicants from now on.
        person.last_modified = now
        person.modified_seq = _next_seq(session, app.workspace_id)
        session.add(person)
    session.flush()
    if approve:
        messages = [
            notifications.Message(
                to=p.email,
                subject="Your rental application was approved",
                kind=EmailKind.APPLICATION_APPROVED,
                body=f"Hello {p.name}, your application (moving in "
                f"{app.desired_move_in.isoformat()}) was approved.",
                data={"application_id": app.id, "applicant_id": p.id},
            )
            for p in people
        ]
    else:
        listed = "\n".join(f"- {r}" for r in app.reasons)
        messages = [
            notifications.Message(
                to=p.email,
                subject="Notice of adverse action on your rental application",
                kind=EmailKind.ADVERSE_ACTION,
                body=f"Dear {p.name},\n\nWe regret that your rental application was denied "
                f"for these reasons:\n{listed}\n\nYou may request a free copy of your consumer "
                "report from the reporting agency within 60 days.",
                data={"application_id": app.id, "applicant_id": p.id, "reasons": app.reasons},
            )
            for p in people
        ]
    notifications.send_many(session, ids, messages, now=now)
    return app


def edit_application(
    session: Session, app: Application, *, desired_move_in: date | None, now: datetime
) -> Application:
    people = applicants_of(session, app.workspace_id, [app.id])[app.id]
    if desired_move_in is None or desired_move_in == app.desired_move_in:
        return app
    if any(p.accepted_at is not None for p in people):
        raise ApplicantFrozen(
            "An applicant of this application was accepted by the accounting client; it no "
            "longer changes."
        )
    app.desired_move_in = desired_move_in
    app.updated_at = now
    session.add(app)
    for p in people:
        p.last_modified = now
        p.modified_seq = _next_seq(session, app.workspace_id)
        session.add(p)
    session.flush()
    events.emit(
        session,
        app.workspace_id,
        "applicant.updated",
        app.id,
        now=now,
        data={"changed": ["desired_move_in"]},
    )
    return app


def edit_applicant(
    session: Session, person: Applicant, changes: dict[str, Any], *, now: datetime
) -> Applicant:
    """Correct an applicant's details; refused once the client accepted them."""
    if person.accepted_at is not None:
        raise ApplicantFrozen(
            f"Applicant {person.id} was accepted by the accounting client on "
            f"{person.accepted_at.date().isoformat()}; accepted applicants never change.",
            extra={"accepted_at": person.accepted_at.isoformat()},
        )
    changed = False
    for field in APPLICANT_FIELDS:
        if field in changes and changes[field] != getattr(person, field):
            value = changes[field]
            setattr(person, field, value.strip().lower() if field == "email" else value)
            changed = True
    if changed:
        person.last_modified = now
        person.modified_seq = _next_seq(session, person.workspace_id)
        session.add(person)
        session.flush()
        events.emit(
            session,
            person.workspace_id,
            "applicant.updated",
            person.application_id,
            now=now,
            data={"applicant_id": person.id, "changed": ["applicant"]},
        )
    return person


def accept(
    session: Session, person: Applicant, snapshot: dict[str, Any], *, now: datetime
) -> Applicant:
    """The client accepted the applicant: keep the record as it is now (idempotent)."""
    if person.accepted_at is None:
        person.accepted_at = now
        person.last_modified = now
        person.modified_seq = _next_seq(session, person.workspace_id)
        person.snapshot = {
            **snapshot,
            "accepted": True,
            "accepted_at": now.isoformat(),
            "last_modified": now.isoformat(),
        }
        session.add(person)
        session.flush()
        events.emit(
            session,
            person.workspace_id,
            "applicant.updated",
            person.application_id,
            now=now,
            data={"applicant_id": person.id, "accepted": True},
        )
    return person


# --- reading ------------------------------------------------------------------------------------


def get_application(
    session: Session, workspace_id: str, application_id: str, *, for_update: bool = False
) -> Application:
    """One application; ``for_update`` locks its row first (``db.get_row``). Every change of
    an application or its applicants locks the application, so screening, decisions, edits
    and the client's acceptance (which freezes them) are checked on what they change."""
    app = get_row(session, Application, (workspace_id, application_id), for_update=for_update)
    if app is None:
        raise ApplicationNotFound(f"No application {application_id!r}.")
    return app


def get_applicant(
    session: Session, app: Application, applicant_id: str, *, for_update: bool = False
) -> Applicant:
    person = get_row(session, Applicant, (app.workspace_id, applicant_id), for_update=for_update)
    if person is None or person.application_id != app.id:
        raise ApplicantNotFound(f"Application {app.id} has no applicant {applicant_id!r}.")
    return person


def list_applications(
    session: Session,
    workspace_id: str,
    *,
    status: ApplicationStatus | None = None,
    resident_id: str | None = None,
    after: str | None,
    limit: int,
) -> list[Application]:
    query = select(Application).where(col(Application.workspace_id) == workspace_id)
    if status is not None:
        query = query.where(col(Application.status) == status)
    if resident_id is not None:
        query = query.where(col(Application.resident_id) == resident_id)
    return list(session.scalars(keyset(query, col(Application.id), after=after, limit=limit)))


def applicants_of(
    session: Session, workspace_id: str, application_ids: Sequence[str]
) -> dict[str, list[Applicant]]:
    out: dict[str, list[Applicant]] = {a: [] for a in application_ids}
    if not application_ids:
        return out
    for p in session.scalars(
        select(Applicant)
        .where(
            col(Applicant.workspace_id) == workspace_id,
            col(Applicant.application_id).in_(list(application_ids)),
        )
        .order_by(col(Applicant.application_id), col(Applicant.position))
    ):
        out[p.application_id].append(p)
    return out


def feed(
    session: Session,
    workspace_id: str,
    *,
    since: datetime | None,
    after_seq: int | None,
    limit: int,
) -> list[tuple[Applicant, Application]]:
    """The applicants of approved applications, least recently changed first."""
    query = (
        select(Applicant, Application)
        .join(
            Application,
            (col(Application.workspace_id) == col(Applicant.workspace_id))
            & (col(Application.id) == col(Applicant.application_id)),
        )
        .where(
            col(Applicant.workspace_id) == workspace_id,
            col(Application.status) == ApplicationStatus.APPROVED,
        )
    )
    if since is not None:
        query = query.where(col(Applicant.last_modified) > since)
    rows = session.execute(
        keyset(query, col(Applicant.modified_seq), after=after_seq, limit=limit)
    ).all()
    return [(p, a) for p, a in rows]


def feed_applicant(
    session: Session, workspace_id: str, applicant_id: str, *, for_update: bool = False
) -> tuple[Applicant, Application]:
    """One applicant the client can see (an approved application's); 404 otherwise.
    ``for_update`` locks the application, then the applicant (the order every change takes)."""
    person = session.get(Applicant, (workspace_id, applicant_id))
    app = (
        get_row(session, Application, (workspace_id, person.application_id), for_update=for_update)
        if person
        else None
    )
    if for_update and app is not None:
        person = get_row(session, Applicant, (workspace_id, applicant_id), for_update=True)
    if person is None or app is None or app.status is not ApplicationStatus.APPROVED:
        raise ApplicantNotFound(f"No approved applicant {applicant_id!r}.")
    return person, app
