"""The deposit accounts properties' payments go to (architecture.md §7).

Deposit batches are cut per deposit-account type (rent, security deposit, application fee,
domain.md §5.1), so a property has at most one account of each type; the database keeps that
rule too (``deposit_account_property``), the check here only gives the better message. The
landlord's accounts pass the bank-number rules (``bank_numbers``, formats.md §4); those a
balance intake creates from the client's bank details do not (``intake_deposit_account``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlmodel import Session, col

from portal.core.db import bulk_insert
from portal.core.errors import Conflict, NotFound
from portal.core.ids import IdMinter
from portal.core.pagination import keyset
from portal.properties.bank_numbers import check_bank_numbers
from portal.properties.models import (
    DepositAccount,
    DepositAccountProperty,
    DepositAccountType,
    Property,
)
from portal.properties.service import PropertyNotFound


class DepositAccountNotFound(NotFound):
    code = "deposit_account_not_found"


class DepositAccountTypeTaken(Conflict):
    code = "deposit_account_type_taken"


def accounts_by_property(
    session: Session, workspace_id: str, property_ids: Sequence[str]
) -> dict[str, dict[DepositAccountType, str]]:
    """For each property, the ID of its deposit account of each type it has (one query)."""
    out: dict[str, dict[DepositAccountType, str]] = {pid: {} for pid in property_ids}
    rows = session.execute(
        select(
            col(DepositAccountProperty.property_id),
            col(DepositAccountProperty.type),
            col(DepositAccountProperty.deposit_account_id),
        ).where(
            col(DepositAccountProperty.workspace_id) == workspace_id,
            col(DepositAccountProperty.property_id).in_(property_ids),
        )
    )
    for property_id, type_, account_id in rows:
        out[property_id][type_] = account_id
    return out


def get_deposit_account(session: Session, workspace_id: str, account_id: str) -> DepositAccount:
    account = session.get(DepositAccount, (workspace_id, account_id))
    if account is None:
        raise DepositAccountNotFound(f"No deposit account {account_id!r}.")
    return account


def deposit_account_for(
    session: Session, workspace_id: str, property_id: str, type: DepositAccountType
) -> DepositAccount | None:
    """The account that receives this property's payments of this type, if it has one."""
    return session.scalars(
        select(DepositAccount)
        .join(
            DepositAccountProperty,
            (col(DepositAccountProperty.workspace_id) == col(DepositAccount.workspace_id))
            & (col(DepositAccountProperty.deposit_account_id) == col(DepositAccount.id)),
        )
        .where(
            col(DepositAccountProperty.workspace_id) == workspace_id,
            col(DepositAccountProperty.property_id) == property_id,
            col(DepositAccountProperty.type) == type,
        )
    ).first()


def list_deposit_accounts(
    session: Session, workspace_id: str, *, after: str | None, limit: int
) -> list[DepositAccount]:
    query = select(DepositAccount).where(col(DepositAccount.workspace_id) == workspace_id)
    query = keyset(query, col(DepositAccount.id), after=after, limit=limit)
    return list(session.scalars(query))


def properties_by_account(
    session: Session, workspace_id: str, account_ids: Sequence[str]
) -> dict[str, list[str]]:
    """For each account, the IDs of the properties it serves, in ID order (one query)."""
    out: dict[str, list[str]] = {aid: [] for aid in account_ids}
    rows = session.execute(
        select(
            col(DepositAccountProperty.deposit_account_id), col(DepositAccountProperty.property_id)
        )
        .where(
            col(DepositAccountProperty.workspace_id) == workspace_id,
            col(DepositAccountProperty.deposit_account_id).in_(account_ids),
        )
        .order_by(col(DepositAccountProperty.property_id))
    )
    for account_id, property_id in rows:
        out[account_id].append(property_id)
    return out


def _servable(
    session: Session,
    workspace_id: str,
    type: DepositAccountType,
    property_ids: Sequence[str],
    *,
    account_id: str | None,
) -> list[str]:
    """The distinct property IDs, once each exists and has no other account of ``type``."""
    wanted = list(dict.fromkeys(property_ids))
    if not wanted:
        return wanted
    found = set(
        session.scalars(
            select(col(Property.id)).where(
                col(Property.workspace_id) == workspace_id, col(Property.id).in_(wanted)
            )
        )
    )
    missing = [pid for pid in wanted if pid not in found]
    if missing:
        raise PropertyNotFound(f"No property {', '.join(repr(pid) for pid in missing)}.")
    taken = session.execute(
        select(
            col(DepositAccountProperty.property_id), col(DepositAccountProperty.deposit_account_id)
        )
        .where(
            col(DepositAccountProperty.workspace_id) == workspace_id,
            col(DepositAccountProperty.property_id).in_(wanted),
            col(DepositAccountProperty.type) == type,
            col(DepositAccountProperty.deposit_account_id) != (account_id or ""),
        )
        .order_by(col(DepositAccountProperty.property_id))
    ).first()
    if taken is not None:
        raise DepositAccountTypeTaken(
            f"Property {taken[0]!r} already has a {type.value} deposit account, {taken[1]!r}; "
            "take the property off that account first."
        )
    return wanted


def create_deposit_account(
    session: Session,
    ids: IdMinter,
    *,
    type: DepositAccountType,
    name: str | None,
    account_number: str,
    routing_number: str,
    property_ids: Sequence[str],
    now: datetime,
) -> DepositAccount:
    """A new account serving ``property_ids`` (none is fine: assign them later)."""
    check_bank_numbers(account_number, routing_number)
    served = _servable(session, ids.scope, type, property_ids, account_id=None)
    account = DepositAccount(
        workspace_id=ids.scope,
        id=ids.new("deposit_account", "dacct"),
        type=type,
        name=name or "",
        account_number=account_number,
        routing_number=routing_number,
        created_at=now,
    )
    session.add(account)
    session.flush()
    session.add_all(_link(account, pid) for pid in served)
    session.flush()
    return account


def replace_served_properties(
    session: Session, account: DepositAccount, property_ids: Sequence[str]
) -> list[str]:
    """Make ``account`` serve exactly ``property_ids``; returns them in ID order. Properties
    already served stay linked, so replacing with the same list changes nothing."""
    served = set(
        _servable(session, account.workspace_id, account.type, property_ids, account_id=account.id)
    )
    current = session.scalars(
        select(DepositAccountProperty).where(
            col(DepositAccountProperty.workspace_id) == account.workspace_id,
            col(DepositAccountProperty.deposit_account_id) == account.id,
        )
    ).all()
    for link in current:
        if link.property_id not in served:
            session.delete(link)
    kept = {link.property_id for link in current}
    session.add_all(_link(account, pid) for pid in sorted(served - kept))
    session.flush()
    return sorted(served)


def _link(account: DepositAccount, property_id: str) -> DepositAccountProperty:
    return DepositAccountProperty(
        workspace_id=account.workspace_id,
        deposit_account_id=account.id,
        property_id=property_id,
        type=account.type,
    )


def intake_rent_account(
    session: Session,
    ids: IdMinter,
    *,
    account_number: str,
    routing_number: str,
    property_ids: Sequence[str],
    now: datetime,
) -> str:
    """The rent account an accounting client's bank details name (``intake_deposit_account``)."""
    return intake_deposit_account(
        session,
        ids,
        type=DepositAccountType.RENT,
        account_number=account_number,
        routing_number=routing_number,
        property_ids=property_ids,
        now=now,
    )


#: The name an account created by a balance intake gets, by type.
_INTAKE_ACCOUNT_NAMES = {
    DepositAccountType.RENT: "Accounting system bank account",
    DepositAccountType.SECURITY_DEPOSIT: "Accounting system security deposit account",
    DepositAccountType.APPLICATION_FEE: "Accounting system application fee account",
}


def intake_deposit_account(
    session: Session,
    ids: IdMinter,
    *,
    type: DepositAccountType,
    account_number: str,
    routing_number: str,
    property_ids: Sequence[str],
    now: datetime,
) -> str:
    """The ``type`` account an accounting client's bank details name (found or created),
    serving every listed property that has no account of that type yet: one the landlord
    chose stays. The client's numbers are opaque here: Landlord 12 sends routing numbers
    such as ``0001234`` (domain.md §1), so no ABA check."""
    account_id = session.scalars(
        select(col(DepositAccount.id)).where(
            col(DepositAccount.workspace_id) == ids.scope,
            col(DepositAccount.type) == type,
            col(DepositAccount.account_number) == account_number,
            col(DepositAccount.routing_number) == routing_number,
        )
    ).first()
    if account_id is None:
        account_id = ids.new("deposit_account", "dacct")
        session.execute(
            insert(DepositAccount).values(
                workspace_id=ids.scope,
                id=account_id,
                type=type,
                name=_INTAKE_ACCOUNT_NAMES[type],
                account_number=account_number,
                routing_number=routing_number[:9],
                created_at=now,
            )
        )
    served = set(
        session.scalars(
            select(col(DepositAccountProperty.property_id)).where(
                col(DepositAccountProperty.workspace_id) == ids.scope,
                col(DepositAccountProperty.type) == type,
            )
        )
    )
    links = [
        {
            "workspace_id": ids.scope,
            "deposit_account_id": account_id,
            "property_id": pid,
            "type": type,
        }
        for pid in dict.fromkeys(property_ids)
        if pid not in served
    ]
    if links:
        bulk_insert(session, DepositAccountProperty, links)
    return account_id
