"""The reference MRI's admin API under ``/_ref/…`` (issue 17, "Pinned for client tests"):
credentials; seeding a property from a ``ResidentLeaseDetailsByPropertyID`` answer as MRI
sends it (raw XML, or its JSON); the property manager's side of MRI (close batches, void a
receipt, flip ``BlockEPayments``, move residents, add a pending move-in); read-back of leases
with balances, batches with receipts and totals, and receipts. Money is two-decimal strings
here, as in the portal's API.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portal.core.money import format_cents
from portal.reference.harness import ADMIN_PREFIX, AdminError, harness_of
from portal.reference.mri import documents, seeding
from portal.reference.mri.seeding import CredentialCreate
from portal.reference.mri.state import (
    Batch,
    Charge,
    Credential,
    Lease,
    Property,
    Receipt,
    Switches,
    World,
    parse_vendor_amount,
)
from portal.reference.safexml import XmlError, parse

#: A seeding document may be large (a portfolio's residents); ``api.asp`` takes less.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024

router = APIRouter(prefix=ADMIN_PREFIX, tags=["mri"])


def world_of(request: Request) -> World:
    world: World = request.app.state.world
    return world


def _now(request: Request) -> datetime:
    """The server clock, after closing what the end of day has passed (``World.tick``)."""
    now = harness_of(request).clock.now()
    world_of(request).tick(now)
    return now


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _local(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _amount(text: str, name: str) -> int:
    try:
        return parse_vendor_amount(text)
    except ValueError:
        raise AdminError(
            status=422, code="validation_failed", detail=f"{name} {text!r} is not an amount"
        ) from None


class LeasePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    block_epayments: bool | None = None
    balance: str | None = Field(default=None, description="set the balance (an adjustment)")
    move_out: date | None = None


class ResidentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["Current", "Co-Resident", "Other Resident", "Old", "New"] | None = None
    email: str | None = Field(default=None, max_length=200)


class PendingMoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resident_name_id: str = Field(min_length=1, max_length=20)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    building_id: str = Field(min_length=1, max_length=20)
    unit_id: str = Field(min_length=1, max_length=20)
    lease_id: str | None = Field(default=None, min_length=1, max_length=20)
    scheduled_move_in: date
    lease_end: date | None = None
    rent: str | None = None
    balance: str | None = None
    email: str | None = Field(default=None, max_length=200)


class VoidReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["void", "nsf", "reversed"] = "void"


class CloseBatches(BaseModel):
    model_config = ConfigDict(extra="forbid")

    property_id: str | None = None
    external_batch_id: str | None = None


class SwitchesPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duplicates: Literal["reject", "accept_twice"] | None = None
    duplicate_check_number: bool | None = None
    over_length: Literal["reject", "truncate"] | None = None
    block_epayments: Literal["accept", "reject"] | None = None
    negative_amounts: Literal["reject", "reversal"] | None = None
    skip: Literal["start_row", "literal"] | None = None
    page_size: int | None = None
    end_of_day: str | None = None
    time_zone: str | None = None
    control_total: Literal["ignore", "reject"] | None = None


# --- read shapes -------------------------------------------------------------------------


def _property(world: World, property_id: str) -> Property:
    found = world.property(property_id)
    if found is None:
        raise AdminError(status=404, code="not_found", detail=f"no property {property_id!r}")
    return found


def _credential_read(credential: Credential) -> dict[str, Any]:
    return {
        "client_id": credential.client_id,
        "database": credential.database,
        "user": credential.user,
        "partner_key": credential.partner_key,
        "username": credential.username,
    }


def _charge_read(charge: Charge) -> dict[str, Any]:
    return {
        "charge_id": charge.charge_id,
        "charge_code": charge.charge_code,
        "description": charge.description,
        "amount": format_cents(charge.amount_cents),
        "frequency": charge.frequency,
        "effective_date": _local(charge.effective),
        "end_date": _local(charge.end),
        "unpaid": format_cents(charge.unpaid_cents),
        "security_deposit": charge.security_deposit,
    }


def _lease_read(prop: Property, lease: Lease) -> dict[str, Any]:
    running = 0
    ledger = []
    for entry in lease.ledger:
        running += entry.amount_cents
        ledger.append(
            {
                "at": _instant(entry.at),
                "kind": entry.kind,
                "amount": format_cents(entry.amount_cents),
                "balance": format_cents(running),
                "transaction_id": entry.transaction_id,
            }
        )
    residents = [r for r in prop.residents.values() if r.lease is lease]
    return {
        "property_id": prop.property_id,
        "building_id": lease.building_id,
        "unit_id": lease.unit_id,
        "lease_id": lease.lease_id,
        "balance": format_cents(lease.balance_cents),
        "block_epayments": lease.blocked,
        "rent": None if lease.rent_cents is None else format_cents(lease.rent_cents),
        "lease_start": _local(lease.start),
        "occupy_date": _local(lease.occupy),
        "lease_end": _local(lease.end),
        "move_out": _local(lease.move_out),
        "month_to_month": lease.month_to_month,
        "residents": [
            {
                "resident_name_id": r.name_id,
                "status": r.status,
                "is_current": r.is_current,
                "first_name": r.fields.get("FirstName"),
                "last_name": r.fields.get("LastName"),
                "email": r.email,
                "last_update": _local(r.last_update),
            }
            for r in residents
        ],
        "charges": [_charge_read(c) for c in lease.charges],
        "ledger": ledger,
    }


def _receipt_read(world: World, receipt: Receipt) -> dict[str, Any]:
    prop = world.properties.get(receipt.property_key)
    building_id, unit_id, lease_id = receipt.lease_key
    return {
        "transaction_id": receipt.transaction_id,
        "batch_id": receipt.batch_id,
        "external_batch_id": receipt.external_batch_id,
        "external_transaction_number": receipt.external_transaction_number,
        "property_id": prop.property_id if prop is not None else receipt.property_key,
        "resident_name_id": receipt.resident_name_id,
        "building_id": building_id,
        "unit_id": unit_id,
        "lease_id": lease_id,
        "amount": format_cents(receipt.amount_cents),
        "payment_type": receipt.payment_type,
        "payment_date": _local(receipt.payment_date),
        "check_number": receipt.check_number,
        "charge_id": receipt.charge_id,
        "charge_code": receipt.charge_code,
        "cash_type": receipt.cash_type,
        "ledger": receipt.ledger,
        "description": receipt.answer.get("Description"),
        "status": receipt.status,
        "void_reason": receipt.void_reason,
        "posted_at": _instant(receipt.posted_at),
        "voided_at": _instant(receipt.voided_at),
        "notes": receipt.notes,
    }


def _batch_read(world: World, batch: Batch) -> dict[str, Any]:
    posted = [r for r in batch.receipts if r.status == "posted"]
    deposits = sum(r.amount_cents for r in posted if r.ledger == "security_deposit")
    prop = world.properties.get(batch.property_key)
    return {
        "batch_id": batch.batch_id,
        "external_batch_id": batch.external_batch_id,
        "property_id": prop.property_id if prop is not None else batch.property_key,
        "state": batch.state,
        "opened_at": _instant(batch.opened_at),
        "closed_at": _instant(batch.closed_at),
        "close_reason": batch.close_reason,
        "receipts": [_receipt_read(world, r) for r in batch.receipts],
        "count": len(posted),
        "total": format_cents(batch.total_cents),
        "control_total": format_cents(batch.total_cents),
        "stated_control_total": None
        if batch.stated_control_total_cents is None
        else format_cents(batch.stated_control_total_cents),
        "stated_receipt_count": batch.stated_receipt_count,
        "totals": {
            "rent": format_cents(batch.total_cents - deposits),
            "security_deposits": format_cents(deposits),
            "voided": format_cents(sum(r.amount_cents for r in batch.receipts) - batch.total_cents),
        },
    }


async def _document(request: Request) -> tuple[Any, bool]:
    """The body as an element tree (XML) or a JSON value; the flag says JSON."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
        raise AdminError(status=413, code="payload_too_large", detail="the document is over 64 MiB")
    body = await request.body()
    if len(body) > MAX_DOCUMENT_BYTES:
        raise AdminError(status=413, code="payload_too_large", detail="the document is over 64 MiB")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in ("application/xml", "text/xml"):
        try:
            return parse(body), False
        except XmlError as exc:
            raise AdminError(status=400, code="malformed_document", detail=str(exc)) from None
    if media == "application/json":
        try:
            return json.loads(body), True
        except (ValueError, RecursionError):
            raise AdminError(
                status=400, code="malformed_document", detail="the body is not JSON"
            ) from None
    raise AdminError(
        status=415,
        code="unsupported_media_type",
        detail="send the document as application/xml, or JSON as application/json",
    )


# --- routes ------------------------------------------------------------------------------


@router.post("/credentials", status_code=201)
async def create_credential(request: Request, body: CredentialCreate) -> JSONResponse:
    """Add a login (the four parts of the user name and the password); the same again is a 200."""
    world = world_of(request)
    credential = Credential(**body.model_dump())
    existing = world.credentials.get(credential.username)
    if existing is not None:
        if existing.password != credential.password:
            raise AdminError(
                status=409,
                code="conflict",
                detail=f"{credential.username} exists with another password",
            )
        return JSONResponse(_credential_read(existing), status_code=200)
    world.credentials[credential.username] = credential
    return JSONResponse(_credential_read(credential), status_code=201)


@router.get("/credentials")
async def list_credentials(request: Request) -> dict[str, Any]:
    """Every login (without its password)."""
    return {"data": [_credential_read(c) for c in world_of(request).credentials.values()]}


@router.put("/properties/{property_id}/residents")
async def seed_residents(request: Request, property_id: str) -> dict[str, Any]:
    """Replace the property's buildings, units, leases and residents with a
    ResidentLeaseDetailsByPropertyID answer (raw XML, or its JSON ``{"value": [...]}``)."""
    world = world_of(request)
    now = _now(request)
    data, as_json = await _document(request)
    try:
        records = (
            documents.json_records(data)
            if as_json
            else documents.xml_records(data, documents.LEASE_DETAILS)
        )
        prop = documents.load_lease_details(
            records, property_id, as_json=as_json, now=now, next_charge_id=world.next_charge_id
        )
    except documents.DocumentError as exc:
        raise AdminError(status=400, code="malformed_document", detail=str(exc)) from None
    world.properties[prop.key] = prop
    return seeding.counts(prop, entries=len(records))


@router.put("/properties/{property_id}/charges")
async def seed_charges(request: Request, property_id: str) -> dict[str, Any]:
    """Replace the charges of the property's leases: ``{"charges": [{"BuildingID", "UnitID",
    "LeaseID", "ChargeCode", "Amount", "Frequency", "EffectiveDate", …}]}``."""
    world = world_of(request)
    prop = _property(world, property_id)
    data, as_json = await _document(request)
    if not as_json:
        raise AdminError(
            status=415, code="unsupported_media_type", detail="send the charges as JSON"
        )
    try:
        charges = documents.load_charges(data, prop, world.next_charge_id)
    except documents.DocumentError as exc:
        raise AdminError(status=400, code="malformed_document", detail=str(exc)) from None
    seeding.replace_charges(prop, charges)
    return {"property_id": prop.property_id, "charges": len(charges)}


@router.get("/properties")
async def list_properties(request: Request) -> dict[str, Any]:
    """Every property with its counts."""
    world = world_of(request)
    return {"data": [seeding.counts(p) for p in world.properties.values()]}


@router.get("/properties/{property_id}/leases")
async def list_leases(request: Request, property_id: str) -> dict[str, Any]:
    """The property's leases: balance, flags, residents, charges and ledger."""
    _now(request)
    prop = _property(world_of(request), property_id)
    return {"data": [_lease_read(prop, lease) for lease in prop.leases.values()]}


@router.patch("/properties/{property_id}/leases/{building_id}/{unit_id}/{lease_id}")
async def update_lease(
    request: Request,
    property_id: str,
    building_id: str,
    unit_id: str,
    lease_id: str,
    body: LeasePatch,
) -> dict[str, Any]:
    """Flip ``BlockEPayments``, set the balance or the move-out, as a manager would in MRI."""
    world = world_of(request)
    now = _now(request)
    prop = _property(world, property_id)
    lease = prop.leases.get((building_id, unit_id, lease_id))
    if lease is None:
        raise AdminError(
            status=404,
            code="not_found",
            detail=f"no lease {building_id}|{unit_id}|{lease_id} on property {prop.property_id}",
        )
    if body.balance is not None:
        world.adjust_balance(lease, _amount(body.balance, "balance"), now)
    if body.block_epayments is not None:
        lease.block_epayments = "Y" if body.block_epayments else "N"
    if body.move_out is not None:
        lease.move_out = datetime.combine(body.move_out, datetime.min.time())
    world.touch(lease, now)
    return _lease_read(prop, lease)


@router.patch("/properties/{property_id}/residents/{resident_name_id}")
async def update_resident(
    request: Request, property_id: str, resident_name_id: str, body: ResidentPatch
) -> dict[str, Any]:
    """Move a resident between Current, Old, New, … (``IsCurrent`` follows) or set the e-mail."""
    world = world_of(request)
    now = _now(request)
    prop = _property(world, property_id)
    resident = prop.residents.get(resident_name_id)
    if resident is None:
        raise AdminError(
            status=404,
            code="not_found",
            detail=f"no resident {resident_name_id} on property {prop.property_id}",
        )
    if body.status is not None:
        world.set_status(resident, body.status, now)
    if body.email is not None:
        resident.email = body.email or None
        resident.last_update = world.local(now)
    return _lease_read(prop, resident.lease)


@router.post("/properties/{property_id}/pending-move-ins", status_code=201)
async def add_pending_move_in(
    request: Request, property_id: str, body: PendingMoveIn
) -> dict[str, Any]:
    """Add a future resident (status ``New``) on a signed lease, new or existing."""
    world = world_of(request)
    now = _now(request)
    prop = _property(world, property_id)
    if body.resident_name_id in prop.residents:
        raise AdminError(
            status=409, code="conflict", detail=f"resident {body.resident_name_id} exists"
        )
    rent = None if body.rent is None else _amount(body.rent, "rent")
    balance = 0 if body.balance is None else _amount(body.balance, "balance")
    lease = seeding.add_pending_move_in(world, prop, body.model_dump(), rent, balance, now)
    return _lease_read(prop, lease)


@router.get("/properties/{property_id}/batches")
async def list_batches(request: Request, property_id: str) -> dict[str, Any]:
    """The property's cash batches with their receipts and totals, oldest first."""
    world = world_of(request)
    _now(request)
    prop = _property(world, property_id)
    batches = [b for b in world.batches.values() if b.property_key == prop.key]
    return {"data": [_batch_read(world, b) for b in batches]}


@router.get("/properties/{property_id}/receipts")
async def list_receipts(request: Request, property_id: str) -> dict[str, Any]:
    """Every receipt posted to the property, in posting order."""
    world = world_of(request)
    _now(request)
    prop = _property(world, property_id)
    receipts = [r for r in world.receipts if r.property_key == prop.key]
    return {"data": [_receipt_read(world, r) for r in receipts]}


@router.post("/receipts/{transaction_id}/void")
async def void_receipt(
    request: Request, transaction_id: str, body: VoidReceipt | None = None
) -> dict[str, Any]:
    """Void a receipt by hand (S2's cancel), or record an NSF or a reversal on the MRI side."""
    world = world_of(request)
    now = _now(request)
    receipt = world.receipt(transaction_id)
    if receipt is None:
        raise AdminError(status=404, code="not_found", detail=f"no receipt {transaction_id}")
    if receipt.status != "posted":
        raise AdminError(
            status=409, code="conflict", detail=f"receipt {transaction_id} is {receipt.status}"
        )
    world.void_receipt(receipt, now, (body or VoidReceipt()).reason)
    return _receipt_read(world, receipt)


@router.post("/batches/close")
async def close_batches(request: Request, body: CloseBatches | None = None) -> dict[str, Any]:
    """Close the open batches (all, one property's, or one) at the server clock."""
    world = world_of(request)
    now = _now(request)
    spec = body or CloseBatches()
    if spec.property_id is not None:
        _property(world, spec.property_id)
    closed = world.close_batches(
        now, property_id=spec.property_id, external_batch_id=spec.external_batch_id
    )
    return {"data": [_batch_read(world, b) for b in closed]}


@router.get("/settings")
async def get_settings(request: Request) -> dict[str, Any]:
    """The behaviour switches."""
    return world_of(request).switches.model_dump(mode="json")


@router.patch("/settings")
async def update_settings(request: Request, body: SwitchesPatch) -> dict[str, Any]:
    """Change behaviour switches (duplicates, lengths, paging, end of day, …)."""
    world = world_of(request)
    changes = body.model_dump(exclude_unset=True)
    try:
        world.switches = Switches.model_validate({**world.switches.model_dump(), **changes})
    except ValidationError as exc:
        detail = "; ".join(str(e["msg"]) for e in exc.errors())
        raise AdminError(status=422, code="validation_failed", detail=detail) from None
    return world.switches.model_dump(mode="json")


@router.post("/seed")
async def seed_world(request: Request) -> dict[str, Any]:
    """Load a whole seed document (``seeding``): credentials, properties, switches; checked
    whole before anything is applied."""
    data, as_json = await _document(request)
    if not as_json:
        raise AdminError(
            status=415, code="unsupported_media_type", detail="send the seed as application/json"
        )
    try:
        return seeding.apply(world_of(request), data, now=_now(request))
    except seeding.SeedError as exc:
        raise AdminError(status=400, code="malformed_document", detail=str(exc)) from None


@router.post("/reset", status_code=204)
async def reset(request: Request) -> Response:
    """Forget everything: credentials, properties, batches, switches, faults and calls."""
    world_of(request).reset()
    harness_of(request).reset()
    return Response(status_code=204)
