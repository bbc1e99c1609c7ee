"""The ``balance`` rule of ``portal check`` (architecture.md §11): an integrated lease's
balance equals its basis minus the payments completed since plus the balance changes of the
reversals since, in ledger order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from portal.core.money import format_usd
from portal.payments.check.base import Violation, scoped
from portal.payments.models import Payment, Reversal
from portal.residents.models import Lease


def _since_basis(model: Any, cents: Any, seq: Any, name: str) -> Any:
    """Per lease, the sum of ``cents`` over ``model`` rows entered after the lease's basis."""
    return (
        select(
            col(model.workspace_id).label("workspace_id"),
            col(model.lease_id).label("lease_id"),
            func.sum(col(cents)).label("cents"),
        )
        .join(
            Lease,
            and_(
                col(Lease.workspace_id) == col(model.workspace_id),
                col(Lease.id) == col(model.lease_id),
            ),
        )
        .where(col(seq) > col(Lease.balance_basis_seq))
        .group_by(col(model.workspace_id), col(model.lease_id))
        .subquery(name)
    )


def balances(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    """Replay every integrated lease from its basis: two grouped sums joined to the leases."""
    completed = _since_basis(Payment, Payment.amount_cents, Payment.completed_seq, "completed")
    reversed_ = _since_basis(
        Reversal, Reversal.balance_delta_cents, Reversal.ledger_seq, "reversed"
    )
    paid = func.coalesce(completed.c.cents, 0)
    back = func.coalesce(reversed_.c.cents, 0)
    expected = col(Lease.balance_basis_cents) - paid + back
    query = scoped(
        select(
            col(Lease.workspace_id),
            col(Lease.id),
            col(Lease.balance_cents),
            col(Lease.balance_basis_cents),
            paid,
            back,
        )
        .outerjoin(
            completed,
            and_(
                completed.c.workspace_id == col(Lease.workspace_id),
                completed.c.lease_id == col(Lease.id),
            ),
        )
        .outerjoin(
            reversed_,
            and_(
                reversed_.c.workspace_id == col(Lease.workspace_id),
                reversed_.c.lease_id == col(Lease.id),
            ),
        )
        .where(col(Lease.external_resident_id).is_not(None), col(Lease.balance_cents) != expected)
        .order_by(col(Lease.workspace_id), col(Lease.id)),
        col(Lease.workspace_id),
        workspace_id,
    )
    for ws, lease_id, balance, basis, paid_cents, back_cents in session.execute(query):
        yield Violation(
            ws,
            "balance",
            f"lease {lease_id}",
            f"balance {format_usd(balance)} but the basis {format_usd(basis)} minus "
            f"{format_usd(int(paid_cents))} completed plus {format_usd(int(back_cents))} "
            f"reversed is {format_usd(basis - int(paid_cents) + int(back_cents))}",
        )
