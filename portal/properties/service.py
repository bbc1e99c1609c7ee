"""Properties, units and the deposit accounts their payments go to (architecture.md §7).

The accounting system names properties and units by its own IDs (Landlord 12's property and
unit IDs, domain.md §2.4, §3): an ``external_id`` is unique per workspace, so a balance line or a
sign-up resolves to one place. A unit's name is unique within its property.

Deposit batches are cut per deposit-account type (rent, security deposit, application fee,
domain.md §5.1), so a property has at most one account of each type; the database keeps that
rule too (``deposit_account_property``), the check here only gives the better message.
Routing numbers pass the ABA checksum and a valid Fed prefix (formats.md §4); account numbers
are 4-17 digits and never leave the server whole (formats.md §4: stored, shown as last 4).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, col
from stdnum.us import rtn

from portal.core.db import bulk_insert
from portal.core.errors import Conflict, FieldError, NotFound, Unprocessable
from portal.core.ids import IdMinter
from portal.core.pagination import keyset
from portal.properties.models import (
    DepositAccount,
    DepositAccountProperty,
    DepositAccountType,
    Property,
    Unit,
)


class PropertyNotFound(NotFound):
    code = "property_not_found"


class UnitNotFound(NotFound):
    code = "unit_not_found"


class DepositAccountNotFound(NotFound):
    code = "deposit_account_not_found"


class PropertyExternalIdTaken(Conflict):
    code = "property_external_id_taken"


class UnitNameTaken(Conflict):
    code = "unit_name_taken"


class UnitExternalIdTaken(Conflict):
    code = "unit_external_id_taken"


class DepositAccountTypeTaken(Conflict):
    code = "deposit_account_type_taken"


# --- bank numbers (formats.md §4) -------------------------------------------------------------

_DIGITS = "0123456789"
_NINE_DIGITS = re.compile(r"[0-9]{9}")
_ACCOUNT_NUMBER = re.compile(r"[0-9]{4,17}")
#: 00 government, 01-12 Fed districts, 21-32 thrifts, 61-72 electronic, 80 traveler's checks.
_ROUTING_PREFIXES = frozenset([*range(0, 13), *range(21, 33), *range(61, 73), 80])


def validate_routing_number(value: str) -> str:
    """The routing number if it is 9 digits with a correct ABA check digit and a prefix the Fed
    assigns; otherwise ValueError saying which of the three rules failed."""
    if not _NINE_DIGITS.fullmatch(value):
        if value.strip(_DIGITS):
            raise ValueError("A routing number has only the digits 0-9.")
        raise ValueError(f"A routing number is 9 digits long, not {len(value)}.")
    if not rtn.is_valid(value):
        raise ValueError("The routing number's check digit is wrong (ABA checksum).")
    if int(value[:2]) not in _ROUTING_PREFIXES:
        raise ValueError(
            f"A routing number starts with 00-12, 21-32, 61-72 or 80, not {value[:2]}."
        )
    return value


def validate_account_number(value: str) -> str:
    """The account number if it is 4 to 17 digits; the error never repeats the number."""
    if not _ACCOUNT_NUMBER.fullmatch(value):
        if value.strip(_DIGITS):
            raise ValueError("An account number has only the digits 0-9.")
        raise ValueError(f"An account number is 4 to 17 digits long, not {len(value)}.")
    return value


def _check_bank_numbers(account_number: str, routing_number: str) -> None:
    """Callers validate at their boundary; this keeps a bad number out of the table anyway."""
    for field, code, check, value in (
        ("account_number", "invalid_account_number", validate_account_number, account_number),
        ("routing_number", "invalid_routing_number", validate_routing_number, routing_number),
    ):
        try:
            check(value)
        except ValueError as exc:
            raise Unprocessable(
                str(exc), code=code, errors=[FieldError(f"$.{field}", str(exc), code)]
            ) from None


# --- properties -------------------------------------------------------------------------------


def get_property(session: Session, workspace_id: str, property_id: str) -> Property:
    prop = session.get(Property, (workspace_id, property_id))
    if prop is None:
        raise PropertyNotFound(f"No property {property_id!r}.")
    return prop


def find_property_by_external_id(
    session: Session, workspace_id: str, external_id: str
) -> Property | None:
    return session.scalars(
        select(Property).where(
            col(Property.workspace_id) == workspace_id, col(Property.external_id) == external_id
        )
    ).first()


def create_property(
    session: Session,
    ids: IdMinter,
    *,
    name: str,
    external_id: str | None,
    street: str,
    city: str | None,
    state: str | None,
    postal_code: str | None,
    post_reversals: bool = True,
    now: datetime,
) -> Property:
    """A new property; a missing city, state or postal code is stored as empty."""
    if external_id is not None:
        other = find_property_by_external_id(session, ids.scope, external_id)
        if other is not None:
            raise PropertyExternalIdTaken(
                f"External ID {external_id!r} already belongs to property {other.id!r} "
                f"({other.name!r})."
            )
    prop = Property(
        workspace_id=ids.scope,
        id=ids.new("property", "prop"),
        name=name,
        external_id=external_id,
        street=street,
        city=city or "",
        state=state or "",
        postal_code=postal_code or "",
        post_reversals=post_reversals,
        created_at=now,
    )
    session.add(prop)
    session.flush()
    return prop


def update_property(
    session: Session,
    prop: Property,
    changes: dict[str, Any],
) -> Property:
    """The landlord's edits: the name, whether MRI gets reversals posted (seed 002), and the
    integration the property belongs to (``integration_id``, None: every integration's)."""
    for field in ("name", "post_reversals", "integration_id"):
        if field in changes:
            setattr(prop, field, changes[field])
    session.add(prop)
    session.flush()
    return prop


def place_label(street: str, unit: str) -> str:
    """Where a resident lives, as accounting clients show it: the street with the unit, the
    street once (seed 000 §D's grid: ``2234 Chapala St #8``). A unit named with its whole
    address (``4500 Candelaria Rd NE Apt 101``) is shown as it is, a unit the street already
    names adds nothing. The one home of the place label (style.md B17): the Send Balances
    roster, the receipts and the work-order feed call it."""
    street, unit = street.strip(), unit.strip()
    if not unit or _names(street, unit):
        return street or unit
    if street and _names(unit, street):
        return unit
    return f"{street} {unit}" if street else unit


def _names(text: str, part: str) -> bool:
    """Whether ``text`` contains ``part`` as whole words, whatever the case: unit ``1`` is
    not named by ``2118 Oak Street``, unit ``2118`` is."""
    words = " ".join(part.casefold().split())
    return f" {words} " in f" {' '.join(text.casefold().split())} "


def claim_properties(
    session: Session, workspace_id: str, property_ids: Sequence[str], integration_id: str
) -> None:
    """Give the properties without an integration to this one (balance intake)."""
    if not property_ids:
        return
    session.execute(
        update(Property)
        .where(
            col(Property.workspace_id) == workspace_id,
            col(Property.id).in_(list(property_ids)),
            col(Property.integration_id).is_(None),
        )
        .values(integration_id=integration_id)
        .execution_options(synchronize_session=False)
    )


def list_properties(
    session: Session,
    workspace_id: str,
    *,
    external_id: str | None = None,
    after: str | None,
    limit: int,
) -> list[Property]:
    query = select(Property).where(col(Property.workspace_id) == workspace_id)
    if external_id is not None:
        query = query.where(col(Property.external_id) == external_id)
    query = keyset(query, col(Property.id), after=after, limit=limit)
    return list(session.scalars(query))


def units_by_property(
    session: Session, workspace_id: str, property_ids: Sequence[str]
) -> dict[str, list[Unit]]:
    """Every unit of these properties, each list ordered by unit ID (one query)."""
    out: dict[str, list[Unit]] = {pid: [] for pid in property_ids}
    rows = session.scalars(
        select(Unit)
        .where(col(Unit.workspace_id) == workspace_id, col(Unit.property_id).in_(property_ids))
        .order_by(col(Unit.id))
    )
    for unit in rows:
        out[unit.property_id].append(unit)
    return out


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


# --- units ------------------------------------------------------------------------------------


def get_unit(session: Session, workspace_id: str, unit_id: str) -> Unit:
    unit = session.get(Unit, (workspace_id, unit_id))
    if unit is None:
        raise UnitNotFound(f"No unit {unit_id!r}.")
    return unit


def find_unit_by_external_id(session: Session, workspace_id: str, external_id: str) -> Unit | None:
    return session.scalars(
        select(Unit).where(
            col(Unit.workspace_id) == workspace_id, col(Unit.external_id) == external_id
        )
    ).first()


def create_unit(
    session: Session,
    ids: IdMinter,
    property: Property,
    *,
    name: str,
    external_id: str | None,
    now: datetime,
) -> Unit:
    same_name = session.scalars(
        select(Unit).where(
            col(Unit.workspace_id) == property.workspace_id,
            col(Unit.property_id) == property.id,
            col(Unit.name) == name,
        )
    ).first()
    if same_name is not None:
        raise UnitNameTaken(
            f"Property {property.id!r} already has a unit named {name!r} ({same_name.id!r})."
        )
    if external_id is not None:
        other = find_unit_by_external_id(session, property.workspace_id, external_id)
        if other is not None:
            raise UnitExternalIdTaken(
                f"External ID {external_id!r} already belongs to unit {other.id!r} "
                f"({other.name!r} of property {other.property_id!r})."
            )
    unit = Unit(
        workspace_id=property.workspace_id,
        id=ids.new("unit", "unit"),
        property_id=property.id,
        name=name,
        external_id=external_id,
        created_at=now,
    )
    session.add(unit)
    session.flush()
    return unit


def list_units(
    session: Session, workspace_id: str, property_id: str, *, after: str | None, limit: int
) -> list[Unit]:
    query = select(Unit).where(
        col(Unit.workspace_id) == workspace_id, col(Unit.property_id) == property_id
    )
    query = keyset(query, col(Unit.id), after=after, limit=limit)
    return list(session.scalars(query))


# --- deposit accounts -------------------------------------------------------------------------


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
    _check_bank_numbers(account_number, routing_number)
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


def properties_by_id(
    session: Session, workspace_id: str, property_ids: set[str]
) -> dict[str, Property]:
    """The properties of a page of items, in one query."""
    if not property_ids:
        return {}
    return {
        p.id: p
        for p in session.scalars(
            select(Property).where(
                col(Property.workspace_id) == workspace_id, col(Property.id).in_(property_ids)
            )
        )
    }


def units_by_id(session: Session, workspace_id: str, unit_ids: set[str]) -> dict[str, Unit]:
    """The units of a page of items, in one query."""
    if not unit_ids:
        return {}
    return {
        u.id: u
        for u in session.scalars(
            select(Unit).where(col(Unit.workspace_id) == workspace_id, col(Unit.id).in_(unit_ids))
        )
    }


# --- bulk paths (balance intake, domain.md §3) -------------------------------------------------


def properties_by_external_id(session: Session, workspace_id: str) -> dict[str, str]:
    """External ID -> property ID for the whole workspace, in one query."""
    rows = session.execute(
        select(col(Property.external_id), col(Property.id)).where(
            col(Property.workspace_id) == workspace_id, col(Property.external_id).is_not(None)
        )
    )
    return {ext: pid for ext, pid in rows if ext is not None}


def units_by_external_id(session: Session, workspace_id: str) -> dict[str, tuple[str, str]]:
    """External ID -> (unit ID, property ID) for the whole workspace, in one query."""
    rows = session.execute(
        select(col(Unit.external_id), col(Unit.id), col(Unit.property_id)).where(
            col(Unit.workspace_id) == workspace_id, col(Unit.external_id).is_not(None)
        )
    )
    return {ext: (uid, pid) for ext, uid, pid in rows if ext is not None}


def bulk_create_properties(
    session: Session, ids: IdMinter, specs: Sequence[tuple[str, str]], *, now: datetime
) -> dict[str, str]:
    """Create properties from (external ID, street address) pairs; returns external -> ID.
    One statement; the caller has checked the external IDs are new."""
    if not specs:
        return {}
    new_ids = ids.many("property", len(specs), "prop")
    rows = [
        {
            "workspace_id": ids.scope,
            "id": pid,
            "name": street or ext,
            "external_id": ext,
            "street": street or ext,
            "city": "",
            "state": "",
            "postal_code": "",
            "created_at": now,
        }
        for pid, (ext, street) in zip(new_ids, specs, strict=True)
    ]
    bulk_insert(session, Property, rows)
    return {ext: pid for pid, (ext, _street) in zip(new_ids, specs, strict=True)}


def bulk_create_units(
    session: Session, ids: IdMinter, specs: Sequence[tuple[str, str, str]], *, now: datetime
) -> dict[str, str]:
    """Create units from (external ID, property ID, name) triples; returns external -> ID.
    A name already used in the property gets the external ID appended, so names stay unique."""
    if not specs:
        return {}
    taken = {
        (pid, name)
        for pid, name in session.execute(
            select(col(Unit.property_id), col(Unit.name)).where(col(Unit.workspace_id) == ids.scope)
        )
    }
    new_ids = ids.many("unit", len(specs), "unit")
    rows = []
    for uid, (ext, pid, name) in zip(new_ids, specs, strict=True):
        name = name or ext
        if (pid, name) in taken:
            name = f"{name} ({ext})"
        taken.add((pid, name))
        rows.append(
            {
                "workspace_id": ids.scope,
                "id": uid,
                "property_id": pid,
                "name": name[:100],
                "external_id": ext,
                "created_at": now,
            }
        )
    bulk_insert(session, Unit, rows)
    return {ext: uid for uid, (ext, _pid, _name) in zip(new_ids, specs, strict=True)}


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
