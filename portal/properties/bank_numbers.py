"""Bank numbers (formats.md §4): routing numbers pass the ABA checksum and a valid Fed prefix;
account numbers are 4-17 digits and never leave the server whole (stored, shown as last 4)."""

from __future__ import annotations

import re

from stdnum.us import rtn

from portal.core.errors import FieldError, Unprocessable

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


def check_bank_numbers(account_number: str, routing_number: str) -> None:
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
