"""Ledger invariants of payments and deposit batches (architecture.md §11), behind ``portal check``.

Each rule is one set-based query (GROUP BY / joins over whole tables, never a query per row), so
the check runs in well under a second at tens of thousands of payments. A rule yields
``Violation``s (``base``); ``run`` collects them for every workspace or one. Rules, by
module (``batches``, ``reversals``, ``balances``, ``identifiers``):

- ``batch_total`` / ``batch_item_count``: a batch's ``total_cents`` and ``item_count`` equal the
  sum and count of its items: the payments that reference it and the reversals booked in it
  (signed: negative when money is taken back), so a reversal batch's total is minus the sum of
  its reversals;
- ``payment_not_in_batch``: a payment that was made (processing, completed, or reversed after
  being made) is in exactly one existing batch (``deposit_batch_id`` set and that batch exists
  in the workspace);
- ``payment_in_batch``: a scheduled or cancelled payment is in none (a void takes it out);
- ``payment_batch_status``: a completed or refunded payment's batch is deposited, a processing
  payment's is open or closed;
- ``payment_batch_mismatch``: a payment's business date, deposit account and deposit type are its
  batch's (one batch per deposit account, kind and business date);
- ``reversal_batch``: a void is in no batch, nor a receipt note (``post_reversals`` off); a
  reversal before the deposit is in its payment's own deposit batch; one after it in a reversal
  batch of its business date and of the payment's deposit account and type;
- ``balance``: an integrated lease's balance equals its basis (the balance last set from
  outside) minus the payments completed since plus the balance changes of the reversals since,
  in ledger order (architecture.md §11);
- ``batch_dates``: a batch's business date is a banking day and its deposit date the next one;
- ``batch_id_shape``: batch IDs are 16 digits; ``transaction_id_shape``: transaction IDs 12;
- ``transaction_id_unique``: transaction IDs (payments' and reversals') are unique per workspace;
- ``one_active_token`` / ``token_digest``: at most one active token per integration, and only
  SHA-256 digests are stored (64 hexadecimal characters);
- ``reversed_more_than_once``: a payment is taken back at most once at a time: at most one
  void, refund or return (each is final), never beside an unanswered chargeback, and no more
  chargebacks than won disputes plus one (a won dispute's credit makes a later chargeback
  possible); no credit without its chargeback (issue 14: concurrent refunds once refunded
  twice, and every other rule still held);
- ``reversed_above_amount``: what a payment's reversals took back, net of credits, is never
  more than the payment;
- ``reversal_status``: the payment's status agrees with its reversals (``refunded`` with its
  one refund, ``returned`` with its return, ``charged_back`` with an open chargeback,
  ``cancelled`` with at most a void, and a payment taken back is never ``completed`` or
  ``processing``);
- ``reversal_ledger``: a reversal that moved a balance carries its ledger number, and moved it
  by exactly the amount it took back (or credited); a void, or a reversal of a payment that never
  completed, moves no balance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session, col

from portal.payments.check.balances import balances
from portal.payments.check.base import Rule, Violation, scoped
from portal.payments.check.batches import batch_dates, batch_sums, payment_batches
from portal.payments.check.identifiers import id_shapes, tokens, unique_transaction_ids
from portal.payments.check.reversals import (
    reversal_batches,
    reversal_ledger,
    reversals_per_payment,
)
from portal.payments.models import DepositBatch, Payment
from portal.workspaces.models import Workspace
from portal.workspaces.service import get_workspace


@dataclass
class Report:
    workspaces: list[str]
    batches: int = 0
    payments: int = 0
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


#: The rules ``run`` applies, in order. Later issues append theirs.
RULES: list[Rule] = [
    batch_sums,
    payment_batches,
    reversal_batches,
    balances,
    batch_dates,
    id_shapes,
    unique_transaction_ids,
    tokens,
    reversals_per_payment,
    reversal_ledger,
]


def run(session: Session, workspace_id: str | None = None) -> Report:
    """Check every workspace, or one (``WorkspaceNotFound`` if it does not exist)."""
    if workspace_id is not None:
        workspaces = [get_workspace(session, workspace_id).id]
    else:
        workspaces = list(session.scalars(select(col(Workspace.id)).order_by(col(Workspace.id))))
    report = Report(workspaces=workspaces)
    report.batches = int(
        session.scalar(
            scoped(
                select(func.count()).select_from(DepositBatch),
                col(DepositBatch.workspace_id),
                workspace_id,
            )
        )
        or 0
    )
    report.payments = int(
        session.scalar(
            scoped(
                select(func.count()).select_from(Payment), col(Payment.workspace_id), workspace_id
            )
        )
        or 0
    )
    for rule in RULES:
        report.violations.extend(rule(session, workspace_id))
    return report
