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

from portal.auth.models import Integration, IntegrationKind, PortalFlavor
from portal.core import calendar
from portal.core.errors import FieldError, Unprocessable
from portal.core.ids import IdMinter
from portal.events import service as events
from portal.payments import batching
from portal.properties import accounts as accounts_service
from portal.properties import service as properties_service
from portal.properties.models import DepositAccountType
from portal.residents import intake, intake_rows, maintenance
from portal.residents import roster as roster_service
from portal.residents.models import AccountingRecord

from . import schemas


class BankAccountMissing(Unprocessable):
    code = "bank_account_missing"


class DuplicateResidentId(Unprocessable):
    code = "duplicate_resident_id"


class UnknownPropertyId(Unprocessable):
    code = "unknown_property_id"


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


def _rows(lines: Sequence[schemas.BalanceLine]) -> list[intake_rows.Row]:
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
            intake_rows.Row(
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
    deposit_accounts = _security_deposit_accounts(session, integration, body)
    outcome = intake.receive(
        session,
        ids,
        rows,
        integration_id=integration.id,
        amsi=integration.kind is IntegrationKind.AMSI,
        today=calendar.local_date(now),
        now=now,
    )
    maintenance.receive(session, integration, body.residents, now=now)
    accounts_service.intake_rent_account(
        session,
        ids,
        account_number=account,
        routing_number=routing,
        property_ids=outcome.property_ids,
        now=now,
    )
    _link_security_deposit_accounts(session, ids, deposit_accounts, now=now)
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
    events.emit(
        session,
        integration.workspace_id,
        "balances.received",
        now=now,
        data=summary,
        integration_id=integration.id,
    )
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


def _security_deposit_accounts(
    session: Session, integration: Integration, body: schemas.BalancesIn
) -> dict[tuple[str, str], list[str]]:
    """The security-deposit accounts the call names (seed 002 "Security Deposits", seed 000
    §C account codes), checked before anything is written: ``(account number, routing
    number) -> the client's IDs of the properties it serves``. A property named must be one
    of the call's rows or one the portal knows; the numbers follow the flavor's rule."""
    named = [(n, p) for n, p in enumerate(body.properties) if p.security_deposit_account]
    if not named:
        return {}
    known = {line.property_id for line in body.residents}
    known |= set(properties_service.properties_by_external_id(session, integration.workspace_id))
    unknown = [
        FieldError(
            f"$.properties[{n}].property_id",
            f"property {p.property_id!r} is in no row of this call and unknown to the portal",
            UnknownPropertyId.code,
            row=n,
        )
        for n, p in named
        if p.property_id not in known
    ]
    if unknown:
        raise UnknownPropertyId(
            "A security deposit account names a property the portal does not know; send the "
            "property's residents in the same call.",
            errors=unknown[:100],
        )
    out: dict[tuple[str, str], list[str]] = {}
    for n, p in named:
        try:
            numbers = _bank_account(integration, p.security_deposit_account)
        except BankAccountMissing as exc:
            field = f"$.properties[{n}].security_deposit_account"
            raise BankAccountMissing(
                f"Property {p.property_id!r}: the security deposit account is incomplete. "
                + exc.detail,
                errors=[FieldError(field, exc.detail, BankAccountMissing.code, row=n)],
            ) from None
        out.setdefault(numbers, []).append(p.property_id)
    return out


def _link_security_deposit_accounts(
    session: Session,
    ids: IdMinter,
    accounts: dict[tuple[str, str], list[str]],
    *,
    now: datetime,
) -> None:
    """Each named account, found or created, serves its properties that have no security
    deposit account yet; security-deposit payments then go to it (``payments.service``
    picks the account of the payment's type) and into its own deposit batches."""
    if not accounts:
        return
    by_external = properties_service.properties_by_external_id(session, ids.scope)
    for (account, routing), external_ids in accounts.items():
        accounts_service.intake_deposit_account(
            session,
            ids,
            type=DepositAccountType.SECURITY_DEPOSIT,
            account_number=account,
            routing_number=routing,
            property_ids=[by_external[e] for e in external_ids],
            now=now,
        )


def roster(
    session: Session, integration: Integration, *, after: str | None, limit: int
) -> list[schemas.RosterLineOut]:
    """One page of the client's grid; Last Payment for the whole page in one query."""
    lines = roster_service.roster(
        session, integration.workspace_id, integration.id, after=after, limit=limit
    )
    paid = batching.last_paid(session, integration.workspace_id, [ln.lease_id for ln in lines])
    out = []
    for line in lines:
        last = paid.get(line.lease_id)
        out.append(
            schemas.RosterLineOut(
                resident_id=line.resident_id,
                status=line.status,
                name=line.name,
                email=line.email,
                phone=line.phone,
                property=line.property,
                amount=line.rent_cents,
                last_payment=last.amount_cents if last else None,
                last_payment_date=last.business_date if last else None,
                balance=line.balance_cents,
                disputed=line.disputed_cents,
            )
        )
    return out


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
        page = roster_service.roster(
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
