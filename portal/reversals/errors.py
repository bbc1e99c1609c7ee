"""The reversals feature's refusals, each with its stable ``code`` (architecture.md §5)."""

from __future__ import annotations

from portal.core.errors import Conflict, NotFound, Unprocessable


class ReversalNotFound(NotFound):
    code = "reversal_not_found"


class DisputeNotFound(NotFound):
    code = "dispute_not_found"


class PaymentNotVoidable(Conflict):
    """Only a processing payment, the day it was made and before its cut-off (domain.md §6.2,
    seed 001); the refusal names the refund route and ``refundable_from``."""

    code = "payment_not_voidable"


class PaymentNotRefundable(Conflict):
    """Only a completed payment; before that, ``refundable_from`` says when (domain.md §6.3)."""

    code = "payment_not_refundable"


class PaymentNotReturnable(Conflict):
    """Only a processing or completed ACH payment can be returned."""

    code = "payment_not_returnable"


class ReturnWindowClosed(Conflict):
    """The R-code's return window after settlement has passed (formats.md §3.3)."""

    code = "return_window_closed"


class PaymentNotChargeable(Conflict):
    """Only a processing or completed card payment can be charged back."""

    code = "payment_not_chargeable"


class DisputeNotOpen(Conflict):
    """The dispute's status does not allow this step (models.DISPUTE_TRANSITIONS)."""

    code = "dispute_not_open"


class InvalidReturnCode(Unprocessable):
    code = "invalid_return_code"


class InvalidReasonCode(Unprocessable):
    code = "invalid_reason_code"
