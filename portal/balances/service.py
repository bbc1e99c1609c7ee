"""Receiving balances from an accounting client (domain.md §3, seeds S0 §B/§D, S4 §C).

The whole call is one transaction: a refused call (a missing bank account, a bad row) changes
nothing. The bank account the client sends is where its rent is deposited: properties the call
creates get it as their rent account, and it is kept on the integration.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from portal.auth.models import Integration, PortalFlavor
from portal.core import calendar
from portal.core.errors import FieldError, Unprocessable
from portal.core.ids import IdMinter
from portal.notifications import service as notifications
from portal.properties import service as properties_service
from portal.residents import intake
from portal.residents.models import AccountingRecord

from . import schemas


class BankAccountMissing(Unprocessable):
    code = "bank_account_missing"


class DuplicateResidentId(Unprocessable):
    code = "duplicate_resident_id"


def _bank_account(integration: Integration, bank: schemas.BankAccountIn | None) -> tuple[str, str]:
    """RentTrack needs the account number; Inosio also the routing number (domain.md §1)."""
    account = (bank.account_number or "").strip() if bank else ""
    routing = (bank.routing_number or "").strip() if bank else ""
    if not account:
        raise BankAccountMissing(
            "The bank account number is missing: in Landlord 12, Setup > Account Codes > the "
            "checking account > tab 2 'Checking Account Setup' > Account Number.",
            errors=[],
        )
    if integration.flavor is PortalFlavor.INOSIO and not routing:
        raise BankAccountMissing(
            "The routing number is missing; Inosio needs both the account and the routing "
            "number (Setup > Account Codes > tab 2 'Checking Account Setup')."
        )
    return account, routing


def _rows(lines: Sequence[schemas.BalanceLine]) -> list[intake.Row]:
    seen: dict[str, int] = {}
    duplicates = [
        FieldError(
            f"$.residents[{index}].resident_id",
            f"resident ID {line.resident_id!r} was already sent in row {seen[line.resident_id]}",
            "duplicate_resident_id",
            row=index,
        )
        for index, line in enumerate(lines)
        if seen.setdefault(line.resident_id, index) != index
    ]
    if duplicates:
        repeated = list(dict.fromkeys(lines[e.row].resident_id for e in duplicates if e.row))
        shown = ", ".join(repr(r) for r in repeated[:5]) + (" ..." if len(repeated) > 5 else "")
        raise DuplicateResidentId(
            f"Resident ID {shown} appears more than once; send each resident once.",
            errors=duplicates[:100],
        )
    rows = []
    for line in lines:
        rows.append(
            intake.Row(
                resident_id=line.resident_id,
                property_id=line.property_id,
                property_address=line.property_address,
                unit_id=line.unit_id,
                unit=line.unit,
                name=line.name,
                email=line.email,
                phone=line.phone,
                rent_cents=line.rent,
                balance_cents=line.balance,
                disputed_cents=line.disputed,
                pay_full_balance_only=line.pay_full_balance_only,
                payment_accepted=line.payment_accepted,
                lease_start=line.lease_start,
                lease_end=line.lease_end,
                move_in=line.move_in,
            )
        )
    return rows


def receive(
    session: Session,
    ids: IdMinter,
    integration: Integration,
    body: schemas.BalancesIn,
    *,
    now: datetime,
) -> schemas.BalancesOut:
    account, routing = _bank_account(integration, body.bank_account)
    rows = _rows(body.residents)
    outcome = intake.receive(
        session, ids, rows, integration_id=integration.id, today=calendar.local_date(now), now=now
    )
    properties_service.intake_rent_account(
        session,
        ids,
        account_number=account,
        routing_number=routing,
        property_ids=outcome.property_ids,
        now=now,
    )
    integration.bank_account_number = account
    integration.bank_routing_number = routing or None
    integration.balances_received_at = now
    session.add(integration)
    summary = {
        "integration_id": integration.id,
        "residents": len(rows),
        "created": outcome.created,
        "updated": outcome.updated,
        "unchanged": outcome.unchanged,
        "invited": outcome.invited,
        "waiting": outcome.waiting,
    }
    notifications.record_event(session, ids, "balances.received", summary, now=now)
    session.flush()
    return schemas.BalancesOut(
        created=outcome.created,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
        invited=outcome.invited,
        waiting=outcome.waiting,
        received_at=now,
        residents=[schemas.ResidentStatusOut(resident_id=r, status=s) for r, s in outcome.statuses],
    )


def roster(
    session: Session, integration: Integration, *, after: str | None, limit: int
) -> list[schemas.RosterLineOut]:
    return [
        schemas.RosterLineOut(
            resident_id=line.resident_id,
            status=line.status,
            name=line.name,
            email=line.email,
            phone=line.phone,
            property=line.property,
            amount=line.rent_cents,
            last_payment=None,
            balance=line.balance_cents,
            disputed=line.disputed_cents,
        )
        for line in intake.roster(
            session, integration.workspace_id, integration.id, after=after, limit=limit
        )
    ]


def sync_summary(session: Session, integration: Integration) -> schemas.SyncOut:
    """What the portal holds for this integration ("Synchronize with Server")."""
    total = session.scalar(
        select(func.count())
        .select_from(AccountingRecord)
        .where(
            col(AccountingRecord.workspace_id) == integration.workspace_id,
            col(AccountingRecord.integration_id) == integration.id,
        )
    )
    counts = {"ACTIVE": 0, "INVITE": 0, "WAITING": 0}
    after = None
    while True:
        page = intake.roster(
            session, integration.workspace_id, integration.id, after=after, limit=5000
        )
        for line in page:
            if line.status in counts:
                counts[line.status] += 1
        if len(page) < 5000:
            break
        after = page[-1].resident_id
    return schemas.SyncOut(
        residents=int(total or 0),
        active=counts["ACTIVE"],
        invite=counts["INVITE"],
        waiting=counts["WAITING"],
        balances_received_at=integration.balances_received_at,
    )
