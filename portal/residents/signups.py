"""A resident's own arrival (domain.md §2.1, §2.3): self sign-up (``pending``, or approved at
once when an invited or waiting resident of the unit has the e-mail), log-in, and which
workspace a public resident call means."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.core.ids import IdMinter
from portal.notifications.models import EmailKind
from portal.properties import service as properties_service
from portal.properties.models import Property
from portal.residents.emails import send_approved, tell_landlords
from portal.residents.models import Resident, ResidentStatus
from portal.residents.service import (
    ResidentEmailTaken,
    WorkspaceRequired,
    announce,
    normalize_email,
    set_status,
)
from portal.workspaces.models import Workspace


def resolve_workspace(session: Session, *, workspace_id: str | None, property_id: str) -> Workspace:
    """The workspace a public resident call means. Property IDs repeat across workspaces that
    share a seed, so an ambiguous one needs ``workspace_id`` (docs/decisions.md)."""
    query = select(col(Property.workspace_id)).where(col(Property.id) == property_id)
    if workspace_id is not None:
        query = query.where(col(Property.workspace_id) == workspace_id)
    found = list(session.scalars(query.limit(2)))
    if not found:
        raise properties_service.PropertyNotFound(f"No property {property_id!r}.")
    if len(found) > 1:
        raise WorkspaceRequired(
            f"Property {property_id!r} exists in several workspaces; send workspace_id too."
        )
    ws = session.get(Workspace, found[0])
    assert ws is not None
    return ws


def signup(
    session: Session,
    ids: IdMinter,
    *,
    email: str,
    password: str,
    name: str,
    phone: str | None,
    property_id: str,
    unit_id: str | None,
    now: datetime,
) -> Resident:
    """Self sign-up (domain.md §2.1): ``pending`` and the landlord is told, unless an invited or
    waiting resident of that unit has this e-mail, who is then approved at once (§2.3)."""
    prop = properties_service.get_property(session, ids.scope, property_id)
    unit = properties_service.get_unit(session, ids.scope, unit_id) if unit_id else None
    if unit is not None and unit.property_id != prop.id:
        raise properties_service.UnitNotFound(f"Unit {unit_id!r} is not in property {prop.id!r}.")
    email_n = normalize_email(email)
    assert email_n is not None
    same = list(
        session.scalars(
            select(Resident).where(
                col(Resident.workspace_id) == ids.scope,
                col(Resident.email) == email_n,
                col(Resident.status) != ResidentStatus.DELETED,
            )
        )
    )
    if any(r.password_hash for r in same):
        raise ResidentEmailTaken(f"{email_n} already has an account here; log in instead.")
    invited = [
        r
        for r in same
        if r.status in (ResidentStatus.INVITE, ResidentStatus.WAITING)
        and (unit is None or r.unit_id == unit.id)
    ]
    password_hash = auth_service.hash_password(password)
    if invited:
        resident = invited[0]
        resident.password_hash = password_hash
        resident.phone = resident.phone or phone
        set_status(resident, ResidentStatus.APPROVED, now)
        session.add(resident)
        send_approved(session, ids, resident, now)
        session.flush()
        return resident
    resident = Resident(
        workspace_id=ids.scope,
        id=ids.new("resident", "res"),
        name=name,
        email=email_n,
        phone=phone,
        status=ResidentStatus.PENDING,
        status_changed_at=now,
        password_hash=password_hash,
        property_id=prop.id,
        unit_id=unit.id if unit else None,
        created_at=now,
    )
    session.add(resident)
    announce(session, resident, now)
    session.flush()
    tell_landlords(session, ids, [resident], EmailKind.PENDING_APPROVAL, now)
    return resident


def find_login(
    session: Session, *, email: str, password: str, workspace_id: str | None
) -> Resident:
    query = select(Resident).where(
        col(Resident.email) == normalize_email(email),
        col(Resident.password_hash).is_not(None),
        col(Resident.status) != ResidentStatus.DELETED,
    )
    if workspace_id is not None:
        query = query.where(col(Resident.workspace_id) == workspace_id)
    matches = [
        r
        for r in session.scalars(query)
        if r.password_hash and auth_service.verify_password(password, r.password_hash)
    ]
    if not matches:
        raise auth_service.InvalidCredentials("The e-mail or password is wrong.")
    if len(matches) > 1:
        raise WorkspaceRequired("This login exists in several workspaces; send workspace_id too.")
    return matches[0]
