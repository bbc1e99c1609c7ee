"""Approving a pending resident, the three outcomes of seed S3 (domain.md §2.3, §2.4): merge
with a resident already known (``merges``), synchronize with the accounting system, or approve
manually; and the accounting records that "sync" reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from portal.core import calendar
from portal.core.ids import IdMinter
from portal.properties import service as properties_service
from portal.residents import leases as leases_service
from portal.residents.edits import check_place
from portal.residents.emails import send_approved
from portal.residents.merges import MergeParticipant, check_lease_id, merge
from portal.residents.models import (
    AccountingRecord,
    PaymentsSetting,
    Resident,
    ResidentStatus,
)
from portal.residents.service import NoAccountingMatch, normalize_email, set_status


def approve_manually(
    session: Session,
    ids: IdMinter,
    resident: Resident,
    *,
    rent_cents: int,
    lease_start: date,
    lease_end: date | None,
    due_day: int,
    external_resident_id: str | None,
    amsi: bool,
    participants: Sequence[MergeParticipant],
    now: datetime,
) -> Resident:
    _property_id, unit_id = check_place(session, resident)
    if external_resident_id:
        check_lease_id(
            session,
            ids,
            external_resident_id,
            amsi=amsi,
            into=[resident],
            participants=participants,
        )
    leases_service.create_lease(
        session,
        ids,
        unit_id=unit_id,
        residents=[resident],
        rent_cents=rent_cents,
        start_date=lease_start,
        end_date=lease_end,
        due_day=due_day,
        external_resident_id=external_resident_id,
        now=now,
        origin="manual_approval",
    )
    return _approve(session, ids, resident, now)


def approve_by_sync(
    session: Session,
    ids: IdMinter,
    resident: Resident,
    *,
    amsi: bool,
    participants: Sequence[MergeParticipant],
    now: datetime,
) -> Resident:
    """Until push connectors exist, "Synchronize with accounting system" approves from the
    latest record an accounting client sent for this unit and person (domain.md §2.3). A
    holder of its resident ID who never logged in (invited or waiting, never paid) is the
    same person by the accounting system's own word, and is merged at once; any other holder
    is the landlord's call, offered in the conflict."""
    property_id, unit_id = check_place(session, resident)
    prop = properties_service.get_property(session, ids.scope, property_id)
    unit = properties_service.get_unit(session, ids.scope, unit_id)
    record = _matching_record(session, ids.scope, resident, prop.external_id, unit.external_id)
    if record is None:
        raise NoAccountingMatch(
            f"No accounting record matches {resident.name} <{resident.email}> in unit "
            f"{unit.name}; send balances from the accounting system first, or approve manually."
        )
    held = leases_service.holders_of_external_id(session, ids.scope, record.external_resident_id)
    if held is not None:
        _lease, holders = held
        known = [r for r in holders if r.id != resident.id]
        if known and all(
            r.status in (ResidentStatus.INVITE, ResidentStatus.WAITING) and not r.has_paid
            for r in known
        ):
            return merge(
                session,
                ids,
                resident,
                merge_with=known[0].id,
                participants=participants,
                now=now,
            )
        check_lease_id(
            session,
            ids,
            record.external_resident_id,
            amsi=amsi,
            into=[resident],
            participants=participants,
        )
    leases_service.create_lease(
        session,
        ids,
        unit_id=unit.id,
        residents=[resident],
        rent_cents=record.rent_cents,
        start_date=record.lease_start or calendar.local_date(now),
        end_date=record.lease_end,
        external_resident_id=record.external_resident_id,
        balance_cents=record.balance_cents,
        accounting_payments=record.payment_accepted,
        pay_full_balance_only=record.pay_full_balance_only,
        now=now,
        origin="sync_approval",
    )
    return _approve(session, ids, resident, now)


def _matching_record(
    session: Session,
    workspace_id: str,
    resident: Resident,
    external_property_id: str | None,
    external_unit_id: str | None,
) -> AccountingRecord | None:
    if not external_property_id or not external_unit_id:
        return None
    candidates = list(
        session.scalars(
            select(AccountingRecord)
            .where(
                col(AccountingRecord.workspace_id) == workspace_id,
                col(AccountingRecord.external_property_id) == external_property_id,
                col(AccountingRecord.external_unit_id) == external_unit_id,
            )
            .order_by(col(AccountingRecord.external_resident_id))
        )
    )
    email = normalize_email(resident.email)
    by_email = [c for c in candidates if email and normalize_email(c.email) == email]
    if by_email:
        return by_email[0]
    name = " ".join(resident.name.lower().split())
    by_name = [c for c in candidates if " ".join(c.name.lower().split()) == name]
    return by_name[0] if by_name else None


def _approve(session: Session, ids: IdMinter, resident: Resident, now: datetime) -> Resident:
    set_status(resident, ResidentStatus.APPROVED, now)
    session.add(resident)
    send_approved(session, ids, resident, now)
    session.flush()
    return resident


def record_accounting(
    session: Session,
    ids: IdMinter,
    *,
    integration_id: str | None,
    external_resident_id: str,
    external_property_id: str,
    external_unit_id: str,
    name: str,
    email: str | None,
    phone: str | None,
    rent_cents: int,
    balance_cents: int,
    lease_start: date | None,
    lease_end: date | None,
    payment_accepted: PaymentsSetting,
    pay_full_balance_only: bool,
    now: datetime,
) -> AccountingRecord:
    """Keep the latest record an accounting client sent for a resident (one per resident ID).
    Balance intake calls this for every row; "approve by sync" reads it."""
    found = session.scalars(
        select(AccountingRecord).where(
            col(AccountingRecord.workspace_id) == ids.scope,
            col(AccountingRecord.external_resident_id) == external_resident_id,
        )
    ).first()
    values: dict[str, Any] = {
        "integration_id": integration_id,
        "external_property_id": external_property_id,
        "external_unit_id": external_unit_id,
        "name": name,
        "email": normalize_email(email),
        "phone": phone,
        "rent_cents": rent_cents,
        "balance_cents": balance_cents,
        "lease_start": lease_start,
        "lease_end": lease_end,
        "payment_accepted": payment_accepted,
        "pay_full_balance_only": pay_full_balance_only,
        "received_at": now,
    }
    if found is None:
        found = AccountingRecord(
            workspace_id=ids.scope,
            id=ids.new("accounting_record", "acr"),
            external_resident_id=external_resident_id,
            **values,
        )
    else:
        for field, value in values.items():
            setattr(found, field, value)
    session.add(found)
    session.flush()
    return found
