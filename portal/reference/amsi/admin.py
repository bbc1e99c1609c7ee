"""The reference eSite's admin API under ``/_ref/…`` (issue 16, "Pinned for client tests"):
seed portfolios, units and leases (the vendor's own documents as raw XML, or JSON) and read
back leases, journals and payments — S1's "External Deposits" view. Money is two-decimal
strings here, as in the portal's API; the SOAP side keeps eSite's bare numbers.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from portal.core.money import format_cents
from portal.reference.amsi import documents, seeding
from portal.reference.amsi.state import (
    SECURITY_DEPOSIT_CODES,
    Journal,
    Lease,
    Payment,
    Portfolio,
    Property,
    Return,
    Switches,
    World,
    lease_status_text,
)
from portal.reference.harness import ADMIN_PREFIX, AdminError, harness_of
from portal.reference.safexml import XmlError, parse

#: A seeding document may be large (a portfolio's residents); the SOAP side takes less.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024

router = APIRouter(prefix=ADMIN_PREFIX, tags=["amsi"])


def world_of(request: Request) -> World:
    world: World = request.app.state.world
    return world


def _instant(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _day(value: date) -> str:
    return value.isoformat()


class PortfolioCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    user_id: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)


class LeasePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["C", "N", "F", "P"] | None = None
    block_payment_access: bool | None = None
    block_all_access: bool | None = None


class SwitchesPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duplicates: Literal["reject", "accept_twice"] | None = None
    enforce_block_payment_access: bool | None = None
    settlement_amount_check: Literal["reject", "warn"] | None = None
    return_journal: Literal["by_transaction", "by_batch"] | None = None
    double_escape_results: bool | None = None
    soap_versions: list[Literal["1.1", "1.2"]] | None = Field(default=None, min_length=1)


def _portfolio(world: World, name: str) -> Portfolio:
    found = world.portfolios.get(name)
    if found is None:
        raise AdminError(status=404, code="not_found", detail=f"no portfolio {name!r}")
    return found


def _property(portfolio: Portfolio, property_id: str) -> Property:
    found = portfolio.properties.get(property_id)
    if found is None:
        raise AdminError(
            status=404,
            code="not_found",
            detail=f"no property {property_id!r} in portfolio {portfolio.name!r}",
        )
    return found


def _portfolio_read(portfolio: Portfolio) -> dict[str, Any]:
    return {
        "name": portfolio.name,
        "user_id": portfolio.user_id,
        "properties": [
            {"property_id": p.property_id, "units": len(p.units), "leases": len(p.leases)}
            for p in portfolio.properties.values()
        ],
        "journals": len(portfolio.journals),
        "payments": len(portfolio.payments),
    }


def _lease_read(lease: Lease) -> dict[str, Any]:
    return {
        "property_id": lease.property_id,
        "bldg_id": lease.bldg_id,
        "unit_id": lease.unit_id,
        "resi_id": lease.resi_id,
        "status": lease.status,
        "status_description": lease_status_text(lease.status),
        "end_balance": format_cents(lease.end_balance_cents),
        "block_payment_access": lease.block_payment_access,
        "block_all_access": lease.block_all_access,
        "name": lease.attrs.get("Name"),
        "email": lease.attrs.get("Email"),
        "occupants": [
            {
                "seq_no": o.get("OccuSeqNo"),
                "first_name": o.get("OccuFirstName"),
                "last_name": o.get("OccuLastName"),
                "email": o.get("Email"),
                "responsible_flag": o.get("ResponsibleFlag"),
            }
            for o in lease.occupants
        ],
        "open_items": [
            {
                "inc_code": item.attrs.get("IncCode"),
                "description": item.attrs.get("IncCodeDesc"),
                "due_date": _day(item.due) if item.due else None,
                "bal_due": format_cents(item.bal_due_cents),
            }
            for item in lease.open_items
        ],
        "balance_history": [
            {
                "at": _instant(change.at),
                "change": format_cents(change.change_cents),
                "balance": format_cents(change.balance_cents),
                "reason": change.reason,
                "client_transaction_id": change.client_transaction_id,
            }
            for change in lease.history
        ],
    }


def _payment_read(payment: Payment) -> dict[str, Any]:
    property_id, bldg_id, unit_id, resi_id = payment.lease_key
    return {
        "client_transaction_id": payment.client_transaction_id,
        "property_id": property_id,
        "bldg_id": bldg_id,
        "unit_id": unit_id,
        "resi_id": resi_id,
        "amount": format_cents(payment.amount_cents),
        "payment_type": payment.payment_type,
        "client_transaction_date": _day(payment.client_transaction_date),
        "client_merchant_id": payment.client_merchant_id,
        "client_jnl_no": payment.journal_no,
        "evolution_reference": payment.evolution_reference,
        "status": payment.status,
        "reason": payment.reason,
        "reversal_of": payment.reversal_of,
        "description": payment.description,
        "charge_inc_code": payment.charge_inc_code,
        "posted_at": _instant(payment.posted_at),
    }


def _return_read(record: Return) -> dict[str, Any]:
    return {
        "client_transaction_id": record.client_transaction_id,
        "reason": record.reason,
        "description": record.description,
        "amount": format_cents(record.amount_cents),
        "evolution_transaction_id": record.evolution_transaction_id,
        "client_jnl_no": record.journal_no,
        "placement": record.placement,
        "returned_at": _instant(record.returned_at),
    }


def _journal_read(journal: Journal) -> dict[str, Any]:
    positive = [p for p in journal.payments if p.amount_cents > 0]
    deposits = sum(p.amount_cents for p in positive if p.charge_inc_code in SECURITY_DEPOSIT_CODES)
    last = journal.settlements[-1] if journal.settlements else None
    return {
        "client_jnl_no": journal.number,
        "esite_batch_no": journal.esite_batch_no,
        "client_merchant_id": journal.client_merchant_id,
        "opened_at": _instant(journal.opened_at),
        "state": "settled" if journal.settled else "open",
        "settled": journal.settled,
        "payments": [_payment_read(p) for p in journal.payments],
        "returns": [_return_read(r) for r in journal.returns],
        # S1's External Deposits columns: Rent/Other, Security Deposits, Misc (negative
        # payments: charge backs, refunds, voids), Return (the column split is INFERENCE).
        "totals": {
            "rent_other": format_cents(sum(p.amount_cents for p in positive) - deposits),
            "security_deposits": format_cents(deposits),
            "misc": format_cents(
                sum(p.amount_cents for p in journal.payments if p.amount_cents < 0)
            ),
            "returns": format_cents(-sum(r.amount_cents for r in journal.returns)),
            "total": format_cents(journal.net_cents),
        },
        "net": format_cents(journal.net_cents),
        "settlement": None
        if last is None
        else {
            "amount": format_cents(last.amount_cents),
            "settlement_date": _day(last.settlement_date),
            "approval_code": last.approval_code,
            "client_merchant_id": last.client_merchant_id,
            "settled_at": _instant(last.settled_at),
            "warning": last.warning,
        },
        "settlements": len(journal.settlements),
    }


async def _document(request: Request, kind: Literal["units", "residents"]) -> tuple[Any, bool]:
    """The body as an element tree (XML) or as a JSON value; the flag says JSON."""
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
    root = documents.UNITS_ROOT if kind == "units" else documents.RESIDENTS_ROOT
    raise AdminError(
        status=415,
        code="unsupported_media_type",
        detail=f"send the <{root}> document as application/xml, or JSON as application/json",
    )


def _seed_property(portfolio: Portfolio, property_id: str) -> Property:
    return portfolio.properties.setdefault(property_id, Property(property_id))


@router.post("/portfolios", status_code=201)
async def create_portfolio(request: Request, body: PortfolioCreate) -> JSONResponse:
    """Create a portfolio with its login; the same request again is a 200."""
    world = world_of(request)
    existing = world.portfolios.get(body.name)
    if existing is not None:
        if (existing.user_id, existing.password) != (body.user_id, body.password):
            raise AdminError(
                status=409,
                code="conflict",
                detail=f"portfolio {body.name!r} exists with another login",
            )
        return JSONResponse(_portfolio_read(existing), status_code=200)
    portfolio = Portfolio(body.name, body.user_id, body.password)
    world.portfolios[body.name] = portfolio
    return JSONResponse(_portfolio_read(portfolio), status_code=201)


@router.post("/seed")
async def seed_world(request: Request) -> dict[str, Any]:
    """Load a whole seed document (``seeding``: portfolios, and per property its units and
    leases in the admin API's JSON shapes); checked whole before anything is applied."""
    data, is_json = await _document(request, "residents")
    if not is_json:
        raise AdminError(
            status=415, code="unsupported_media_type", detail="send the seed as application/json"
        )
    try:
        return seeding.apply(world_of(request), data)
    except seeding.SeedError as exc:
        raise AdminError(status=400, code="malformed_document", detail=str(exc)) from None


@router.get("/portfolios")
async def list_portfolios(request: Request) -> dict[str, Any]:
    """Every portfolio."""
    return {"data": [_portfolio_read(p) for p in world_of(request).portfolios.values()]}


@router.get("/portfolios/{name}")
async def get_portfolio(request: Request, name: str) -> dict[str, Any]:
    """One portfolio and its properties."""
    return _portfolio_read(_portfolio(world_of(request), name))


@router.put("/portfolios/{name}/properties/{property_id}/units")
async def seed_units(request: Request, name: str, property_id: str) -> dict[str, Any]:
    """Replace the property's units with a GetPropertyUnits result document (raw XML) or
    ``{"units": [...]}``."""
    world = world_of(request)
    portfolio = _portfolio(world, name)
    data, is_json = await _document(request, "units")
    try:
        root = documents.units_from_json(data) if is_json else data
        units = documents.load_units(root, property_id, json=is_json)
    except documents.DocumentError as exc:
        raise AdminError(status=400, code="malformed_document", detail=str(exc)) from None
    _seed_property(portfolio, property_id).units = units
    return {"property_id": property_id, "units": len(units)}


@router.put("/portfolios/{name}/properties/{property_id}/residents")
async def seed_residents(request: Request, name: str, property_id: str) -> dict[str, Any]:
    """Replace the property's leases with a GetPropertyResidents result document (raw XML) or
    ``{"leases": [...]}``."""
    world = world_of(request)
    portfolio = _portfolio(world, name)
    data, is_json = await _document(request, "residents")
    try:
        root = documents.residents_from_json(data) if is_json else data
        leases = documents.load_residents(
            root, property_id, lambda: world.next_number("open_item", 1), json=is_json
        )
    except documents.DocumentError as exc:
        raise AdminError(status=400, code="malformed_document", detail=str(exc)) from None
    _seed_property(portfolio, property_id).leases = leases
    return {
        "property_id": property_id,
        "leases": len(leases),
        "occupants": sum(len(lease.occupants) for lease in leases.values()),
        "open_items": sum(len(lease.open_items) for lease in leases.values()),
        "recurring_charges": sum(len(lease.recurring_charges) for lease in leases.values()),
    }


@router.get("/portfolios/{name}/properties/{property_id}/units")
async def list_units(request: Request, name: str, property_id: str) -> dict[str, Any]:
    """The property's units, with their attributes as eSite returns them."""
    prop = _property(_portfolio(world_of(request), name), property_id)
    return {
        "data": [
            {
                "bldg_id": u.bldg_id,
                "unit_id": u.unit_id,
                "inactive": u.inactive,
                "attributes": u.attrs,
            }
            for u in prop.units.values()
        ]
    }


@router.get("/portfolios/{name}/properties/{property_id}/leases")
async def list_leases(request: Request, name: str, property_id: str) -> dict[str, Any]:
    """The property's leases with their current balance (``end_balance``)."""
    prop = _property(_portfolio(world_of(request), name), property_id)
    return {"data": [_lease_read(lease) for lease in prop.leases.values()]}


@router.patch("/portfolios/{name}/properties/{property_id}/leases/{bldg_id}/{unit_id}/{resi_id}")
async def update_lease(
    request: Request,
    name: str,
    property_id: str,
    bldg_id: str,
    unit_id: str,
    resi_id: str,
    body: LeasePatch,
) -> dict[str, Any]:
    """Change a lease's status or block flags, as a property manager would in eSite."""
    prop = _property(_portfolio(world_of(request), name), property_id)
    lease = prop.leases.get((bldg_id, unit_id, resi_id))
    if lease is None:
        raise AdminError(
            status=404,
            code="not_found",
            detail=f"no lease {bldg_id}|{unit_id}|{resi_id} in property {property_id!r}",
        )
    if body.status is not None:
        lease.status = body.status
    if body.block_payment_access is not None:
        lease.block_payment_access = body.block_payment_access
    if body.block_all_access is not None:
        lease.block_all_access = body.block_all_access
    return _lease_read(lease)


@router.get("/portfolios/{name}/journals")
async def list_journals(request: Request, name: str) -> dict[str, Any]:
    """Journals (cash batches) with their payments, returns, net and settlement."""
    portfolio = _portfolio(world_of(request), name)
    return {"data": [_journal_read(j) for j in portfolio.journals.values()]}


@router.get("/portfolios/{name}/payments")
async def list_payments(request: Request, name: str) -> dict[str, Any]:
    """Every payment posted to the portfolio (negative ones included), in posting order."""
    portfolio = _portfolio(world_of(request), name)
    return {"data": [_payment_read(p) for p in portfolio.payments]}


@router.get("/portfolios/{name}/returns")
async def list_returns(request: Request, name: str) -> dict[str, Any]:
    """Every ReturnPayment accepted, whichever way it landed."""
    portfolio = _portfolio(world_of(request), name)
    return {"data": [_return_read(r) for r in portfolio.returns]}


@router.get("/settings")
async def get_settings(request: Request) -> dict[str, Any]:
    """The behaviour switches."""
    return world_of(request).switches.model_dump(mode="json")


@router.patch("/settings")
async def update_settings(request: Request, body: SwitchesPatch) -> dict[str, Any]:
    """Change behaviour switches (duplicates, block enforcement, settlement check, …)."""
    world = world_of(request)
    changes = body.model_dump(exclude_none=True)
    world.switches = Switches.model_validate({**world.switches.model_dump(), **changes})
    return world.switches.model_dump(mode="json")


@router.post("/reset", status_code=204)
async def reset(request: Request) -> Response:
    """Forget everything: portfolios, journals, switches, faults and the call journal."""
    world_of(request).reset()
    harness_of(request).reset()
    return Response(status_code=204)
