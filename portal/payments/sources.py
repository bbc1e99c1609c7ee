"""Residents' payment sources: checking accounts and cards (domain.md §4.1).

Bank numbers are checked as for deposit accounts (formats.md §4). A card number must pass the
Luhn check and its expiry must not be past; only the brand, last 4 and expiry are kept. The
sandbox magic values of architecture.md §8 are recognised here and remembered in ``magic``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col
from stdnum import luhn

from portal.core import calendar
from portal.core.errors import FieldError, Unprocessable
from portal.core.ids import IdMinter
from portal.core.pagination import keyset
from portal.payments.errors import CardExpired, InvalidCardNumber, PaymentSourceNotFound
from portal.payments.models import CardFunding, PaymentSource, SourceStatus, SourceType
from portal.properties import bank_numbers

#: Sandbox magic values (architecture.md §8).
DECLINED_CARD = "4000000000000002"
CHARGEBACK_CARD = "4000000000000259"
_RETURN_AFTER = re.compile(r"10000000([0-9]{2})")
_RETURN_BEFORE = re.compile(r"20000000([0-9]{2})")
_CARD_DIGITS = re.compile(r"[0-9]{12,19}")


def card_brand(number: str) -> str:
    """The network a card number belongs to, by its issuer prefix (ISO/IEC 7812 ranges)."""
    if number.startswith("4"):
        return "visa"
    two, four = int(number[:2]), int(number[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "mastercard"
    if two in (34, 37):
        return "amex"
    if number.startswith(("6011", "65")) or 644 <= int(number[:3]) <= 649:
        return "discover"
    return "other"


def bank_magic(account_number: str) -> str | None:
    """``return_after:RNN`` / ``return_before:RNN`` for the magic ACH accounts."""
    if m := _RETURN_AFTER.fullmatch(account_number):
        return f"return_after:R{m.group(1)}"
    if m := _RETURN_BEFORE.fullmatch(account_number):
        return f"return_before:R{m.group(1)}"
    return None


def card_magic(number: str) -> str | None:
    return {DECLINED_CARD: "declined", CHARGEBACK_CARD: "chargeback"}.get(number)


def card_expired(exp_month: int, exp_year: int, today: date) -> bool:
    """A card is good through the last day of its expiry month."""
    return (exp_year, exp_month) < (today.year, today.month)


def _invalid(exc_type: type[Unprocessable], field: str, message: str) -> Unprocessable:
    return exc_type(message, errors=[FieldError(field, message, exc_type.code)])


def bank_account_values(*, routing_number: str, account_number: str) -> dict[str, Any]:
    """A checking account's columns, its numbers checked first (the one home of the check:
    ``create_bank_account`` and a scenario's bulk load both call it)."""
    for field, code, check, value in (
        ("$.routing_number", "invalid_routing_number", bank_numbers.validate_routing_number,
         routing_number),
        ("$.account_number", "invalid_account_number", bank_numbers.validate_account_number,
         account_number),
    ):  # fmt: skip
        try:
            check(value)
        except ValueError as exc:
            raise Unprocessable(
                str(exc), code=code, errors=[FieldError(field, str(exc), code)]
            ) from None
    return {
        "type": SourceType.BANK_ACCOUNT,
        "last4": account_number[-4:],
        "status": SourceStatus.ACTIVE,
        "routing_number": routing_number,
        "magic": bank_magic(account_number),
    }


def create_bank_account(
    session: Session,
    ids: IdMinter,
    *,
    resident_id: str,
    routing_number: str,
    account_number: str,
    now: datetime,
) -> PaymentSource:
    values = bank_account_values(routing_number=routing_number, account_number=account_number)
    source = PaymentSource(
        workspace_id=ids.scope,
        id=ids.new("payment_source", "src"),
        resident_id=resident_id,
        created_at=now,
        **values,
    )
    session.add(source)
    session.flush()
    return source


def card_values(
    *, number: str, exp_month: int, exp_year: int, funding: CardFunding, now: datetime
) -> dict[str, Any]:
    """A card's columns, the number and expiry checked first (the one home of the checks:
    ``create_card`` and a scenario's bulk load both call it)."""
    number = number.replace(" ", "").replace("-", "")
    if not _CARD_DIGITS.fullmatch(number):
        raise _invalid(InvalidCardNumber, "$.number", "A card number is 12 to 19 digits.")
    if not luhn.is_valid(number):
        raise _invalid(InvalidCardNumber, "$.number", "The card number fails the Luhn check.")
    if card_expired(exp_month, exp_year, calendar.local_date(now)):
        raise _invalid(
            CardExpired, "$.exp_year", f"The card expired in {exp_month:02d}/{exp_year}."
        )
    return {
        "type": SourceType.CARD,
        "last4": number[-4:],
        "status": SourceStatus.ACTIVE,
        "brand": card_brand(number),
        "funding": funding,
        "exp_month": exp_month,
        "exp_year": exp_year,
        "magic": card_magic(number),
    }


def create_card(
    session: Session,
    ids: IdMinter,
    *,
    resident_id: str,
    number: str,
    exp_month: int,
    exp_year: int,
    funding: CardFunding,
    now: datetime,
) -> PaymentSource:
    values = card_values(
        number=number, exp_month=exp_month, exp_year=exp_year, funding=funding, now=now
    )
    source = PaymentSource(
        workspace_id=ids.scope,
        id=ids.new("payment_source", "src"),
        resident_id=resident_id,
        created_at=now,
        **values,
    )
    session.add(source)
    session.flush()
    return source


def get_source(
    session: Session, workspace_id: str, resident_id: str, source_id: str
) -> PaymentSource:
    """The resident's own source; anyone else's is 404."""
    source = session.get(PaymentSource, (workspace_id, source_id))
    if source is None or source.resident_id != resident_id:
        raise PaymentSourceNotFound(f"No payment source {source_id!r}.")
    return source


def list_sources(
    session: Session, workspace_id: str, resident_id: str, *, after: str | None, limit: int
) -> list[PaymentSource]:
    query = select(PaymentSource).where(
        col(PaymentSource.workspace_id) == workspace_id,
        col(PaymentSource.resident_id) == resident_id,
    )
    return list(session.scalars(keyset(query, col(PaymentSource.id), after=after, limit=limit)))
