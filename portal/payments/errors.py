"""The payments feature's refusals, each with its stable ``code`` (architecture.md §5)."""

from __future__ import annotations

from portal.core.errors import Conflict, NotFound, PaymentRequired, Unprocessable


class PaymentSourceNotFound(NotFound):
    code = "payment_source_not_found"


class PaymentNotFound(NotFound):
    code = "payment_not_found"


class RecurringPaymentNotFound(NotFound):
    code = "recurring_payment_not_found"


class DepositBatchNotFound(NotFound):
    code = "deposit_batch_not_found"


class BatchIdTaken(Conflict):
    """A chosen batch ID (scenarios) is used already, or its batch exists with another ID."""

    code = "batch_id_taken"


class LeaseNotFound(NotFound):
    code = "lease_not_found"


class InvalidCardNumber(Unprocessable):
    code = "invalid_card_number"


class CardExpired(Unprocessable):
    code = "card_expired"


class PaymentSourceDisabled(Conflict):
    code = "payment_source_disabled"


class LeaseNotPayable(Conflict):
    """The lease is not active, or no resident on it is approved or current."""

    code = "lease_not_payable"


class PaymentsBlocked(Conflict):
    code = "payments_blocked"


class CashEquivalentOnly(Conflict):
    code = "cash_equivalent_only"


class AmountMustEqualBalance(Unprocessable):
    code = "amount_must_equal_balance"


class AmountNotPositive(Unprocessable):
    code = "amount_not_positive"


class AmountOverLimit(Unprocessable):
    code = "amount_over_limit"


class DailyPaymentLimitReached(Conflict):
    code = "daily_payment_limit_reached"


class CardDeclined(PaymentRequired):
    code = "card_declined"


class NoDepositAccount(Conflict):
    code = "no_deposit_account"


class DateInPast(Unprocessable):
    code = "date_in_past"


class DateTooFar(Unprocessable):
    code = "date_too_far"


class RecurringNotActive(Conflict):
    code = "recurring_payment_not_active"
