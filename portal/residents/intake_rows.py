"""Balance intake, the rows (domain.md §3): one validated line of a "Send Balances" call, the
status the client's grid shows for a resident (seed S0), the lease values a row sets, and the
lease-ID rules checked on the whole call before anything is written (seed S1, domain.md §2.4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from portal.core.errors import FieldError
from portal.residents import leases as leases_service
from portal.residents.models import PaymentsSetting, ResidentStatus

#: The status the client's grid shows (seed S0: ACTIVE, INVITE, WAITING).
CLIENT_STATUS = {
    ResidentStatus.APPROVED: "ACTIVE",
    ResidentStatus.CURRENT: "ACTIVE",
    ResidentStatus.INVITE: "INVITE",
    ResidentStatus.WAITING: "WAITING",
    ResidentStatus.PENDING: "PENDING",
    ResidentStatus.FINISHED: "FINISHED",
    ResidentStatus.DELETED: "DELETED",
}


@dataclass(frozen=True)
class Row:
    """One validated line of the call (amounts in cents)."""

    resident_id: str
    property_id: str
    property_address: str
    unit_id: str
    unit: str
    name: str
    email: str | None
    phone: str | None
    rent_cents: int
    balance_cents: int
    disputed_cents: int
    pay_full_balance_only: bool
    payment_accepted: PaymentsSetting
    lease_start: date | None
    lease_end: date | None
    move_in: date | None


#: The lease columns a row sets: compared with the lease, then written.
LEASE_FIELDS = (
    "unit_id",
    "rent_cents",
    "balance_cents",
    "disputed_cents",
    "accounting_payments",
    "pay_full_balance_only",
    "start_date",
    "end_date",
    "move_in",
)


def check_resident_ids(rows: Sequence[Row], *, amsi: bool) -> None:
    """The lease-ID rules of the single-resident paths, for a whole call (the same function,
    ``leases.amsi_full_id_refusal``, per row): an AMSI client's whole
    Property-Building-Unit-ResiID identifier refuses the call, as any other bad row does
    (422, nothing written), each such row named with its index (seed S1, domain.md §2.4)."""
    if not amsi:
        return
    refused = [
        (n, refusal)
        for n, row in enumerate(rows)
        if (refusal := leases_service.amsi_full_id_refusal(row.resident_id)) is not None
    ]
    if not refused:
        return
    first = refused[0][1]
    more = f" ({len(refused)} rows send such IDs; see errors.)" if len(refused) > 1 else ""
    raise leases_service.AmsiResidentIdFormat(
        first.detail + more,
        errors=[
            FieldError(f"$.residents[{n}].resident_id", refusal.detail, refusal.code, row=n)
            for n, refusal in refused[:100]
        ],
        extra=first.extra,
    )


def lease_values(row: Row, unit_id: str, today: date) -> dict[str, Any]:
    return {
        "unit_id": unit_id,
        "rent_cents": row.rent_cents,
        "balance_cents": row.balance_cents,
        "disputed_cents": row.disputed_cents,
        "accounting_payments": row.payment_accepted,
        "pay_full_balance_only": row.pay_full_balance_only,
        "start_date": row.lease_start or row.move_in or today,
        "end_date": row.lease_end,
        "move_in": row.move_in,
    }
