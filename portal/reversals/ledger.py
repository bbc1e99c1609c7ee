"""The entry an accounting system should book for a reversal, per integration kind (issue 6;
domain.md §6, seeds 001 and 002). Exposed on every reversal; push connectors will use it.

- **AMSI** (seed 001): a negative payment with reason ``voided`` / ``refunded``; ACH returns as
  a *Return* with reason ``NSF`` (any R-code); card reversals as a negative payment coded
  ``CHARGE BACK``; reversals before the deposit sit in the original batch, later ones in a
  separate batch with a negative amount.
- **MRI** (seed 002): reversals are posted as separate debits only when the property's
  ``post_reversals`` setting is on; a cancellation is only a notice: the payment must be voided
  by hand in MRI.
- **Landlord 12** (pull; domain.md §8): nothing is pushed. A reversal after the deposit is a
  negative receipt of a reversal batch the client loads; one before the deposit is a negative
  receipt inside the original batch; a void removed the payment from its batch before it closed.

With the property's ``post_reversals`` setting off, a reversal after the deposit is in no batch
(placement ``receipt_note``): every system gets it as a note on the payment's receipt in its
original batch (``receipt_note``), to be entered by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.payments.batch_items import NOT_POSTED as _NOT_POSTED
from portal.payments.models import Reversal, ReversalKind, ReversalPlacement


@dataclass(frozen=True)
class LedgerEntry:
    integration_kind: str
    entry: str
    """``negative_payment``, ``return``, ``payment``, ``debit``, ``credit``,
    ``negative_receipt``, ``receipt``, ``note``, ``notice`` or ``none``."""
    reason: str | None
    batch: str | None
    """``original`` (the payment's own batch), ``reversal`` (a separate batch) or None."""
    note: str


def _batch(r: Reversal) -> str | None:
    return {
        ReversalPlacement.ORIGINAL_BATCH: "original",
        ReversalPlacement.REVERSAL_BATCH: "reversal",
        ReversalPlacement.NONE: None,
        ReversalPlacement.RECEIPT_NOTE: None,
    }[r.placement]


def _noted(r: Reversal) -> bool:
    return r.placement is ReversalPlacement.RECEIPT_NOTE


def amsi(r: Reversal) -> LedgerEntry:
    noted = f"; {_NOT_POSTED} (a note on the original receipt)" if _noted(r) else ""
    if r.kind is ReversalKind.RETURN:
        return LedgerEntry(
            "amsi",
            "return",
            "NSF",
            _batch(r),
            f"Return with reason NSF ({r.return_code} {r.return_name}){noted}",
        )
    if r.kind is ReversalKind.DISPUTE_WON:
        return LedgerEntry(
            "amsi",
            "payment",
            r.reason,
            _batch(r),
            f"Payment re-posting the charged-back funds{noted}",
        )
    if _noted(r):
        where = f"noted on the original receipt; {_NOT_POSTED}"
    else:
        where = {
            "original": "in the batch the original payment was posted in",
            "reversal": "in a separate batch deposit with a negative amount",
            None: "on the day of the void; no deposit moves",
        }[_batch(r)]
    return LedgerEntry("amsi", "negative_payment", r.reason, _batch(r), f"Negative payment {where}")


def mri(r: Reversal, *, post_reversals: bool) -> LedgerEntry:
    if r.kind is ReversalKind.VOID:
        return LedgerEntry(
            "mri",
            "notice",
            r.reason,
            None,
            "Cancellation notice: void the payment by hand in MRI",
        )
    if not post_reversals or _noted(r):
        return LedgerEntry(
            "mri",
            "none",
            r.reason,
            _batch(r),
            "Not posted: the property's post_reversals setting is off; enter it by hand",
        )
    entry = "credit" if r.amount_cents > 0 else "debit"
    return LedgerEntry(
        "mri", entry, r.reason, _batch(r), f"Posted as a separate {entry} from the bank"
    )


def landlord12(r: Reversal) -> LedgerEntry:
    if r.kind is ReversalKind.VOID:
        return LedgerEntry(
            "landlord12",
            "none",
            r.reason,
            None,
            "Removed from its batch before the batch closed: never delivered",
        )
    if _noted(r):
        return LedgerEntry(
            "landlord12",
            "note",
            r.reason,
            None,
            f"A note on the payment's receipt in its original batch; {_NOT_POSTED}",
        )
    entry = "receipt" if r.amount_cents > 0 else "negative_receipt"
    where = "its original batch" if _batch(r) == "original" else "a reversal batch"
    return LedgerEntry("landlord12", entry, r.reason, _batch(r), f"A {entry} in {where}")


def entries(r: Reversal, *, post_reversals: bool) -> list[LedgerEntry]:
    return [amsi(r), mri(r, post_reversals=post_reversals), landlord12(r)]
