"""NACHA ACH return codes and card chargeback reason codes, as data.

Sources: formats.md §3.3 (ACH return codes: the list, the simulator grouping and the return
windows) and formats.md §5 (Visa and Mastercard chargeback reason codes and the merchant's
response clock). formats.md §5 says "encode the tables as data": the codes are fixed facts
published by Nacha and the card networks, so they live here as literal tables that can be read
and checked against the sources line by line, instead of being scattered through ``if``
branches in the services.

ACH invariants: the table holds every code R01..R99 and nothing else, because seed 001 says a
payment "returned due to one of the NACHA reason codes (R01 - R99)" is booked as a Return with
reason NSF: the portal accepts the whole range it names. The codes Nacha assigns follow the
list in moov-io/ach (``docs/returns.md``, which formats.md §3.3 verified, plus R36, R62 and R77
that its ``addenda99.go`` also carries), with Nacha's current titles. The numbers Nacha has not
assigned or has retired (R48-R49, R54-R60, R63-R66, R78-R79, R86-R99) are in the table as
"Unassigned" (group ``unassigned``, the standard window); like every code they are booked as
NSF. A code is looked up only in its exact upper-case form (``"R01"``).

Everything here is pure: no database, no clock, no other portal module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, TypeAlias


class ReturnGroup(StrEnum):
    """The simulator's grouping of ACH return codes (formats.md §3.3, "grouping mine")."""

    FUNDS = "funds"
    """NSF-like and retryable: R01, R09."""
    ADMINISTRATIVE = "administrative"
    """Account problems; R02-R04 count toward the 3 % administrative return rate."""
    UNAUTHORIZED = "unauthorized"
    """Count toward the 0.5 % unauthorized return rate: R05, R07, R10, R11, R29, R51."""
    STOP_PAYMENT = "stop_payment"
    """The receiver stopped or refused the entry: R08, R23, R24."""
    PROCESSING = "processing"
    """Format or processing errors, usually the originator's bug."""
    CHECK_CONVERSION = "check_conversion"
    """XCK, ARC/BOC/POP source documents and RCK entries; rare for a rent portal."""
    GOVERNMENT = "government"
    """Automated enrollment (ENR) entries only: R40-R47."""
    DISHONORED = "dishonored"
    """The ODFI dishonors a return: R61, R62, R67-R70."""
    CONTESTED = "contested"
    """The RDFI contests a dishonored return: R71-R77."""
    IAT = "iat"
    """International (IAT) entries returned by a gateway: R80-R85."""
    UNASSIGNED = "unassigned"
    """A number of R01-R99 with no Nacha meaning (unassigned or retired); accepted because seed
    001 names the whole range."""


class WindowKind(StrEnum):
    """The unit in which a return window is counted."""

    BANKING_DAYS = "banking_days"
    """Federal Reserve banking days after the settlement date (portal/core/calendar.py)."""
    CALENDAR_DAYS = "calendar_days"
    """Calendar days after the settlement date."""


Window: TypeAlias = tuple[WindowKind, int]

# formats.md §3.3: a return must be available by the 2nd banking day after settlement; the
# consumer "unauthorized"-type returns get 60 calendar days; the ODFI has 5 banking days to
# dishonor a return, the RDFI 2 banking days to contest a dishonor. R06 and R31 are returned by
# agreement with the ODFI; the simulator gives them the standard window. Government (ENR), IAT
# and unassigned codes have no window of their own in formats.md: they take the standard one.
_BD2: Final[Window] = (WindowKind.BANKING_DAYS, 2)
_BD5: Final[Window] = (WindowKind.BANKING_DAYS, 5)
_CD60: Final[Window] = (WindowKind.CALENDAR_DAYS, 60)

# The portal's rule (formats.md §3.3, "disable the bank account, require a new one"): only the
# three administrative codes that count toward the administrative return rate.
_DISABLING_CODES: Final = frozenset({"R02", "R03", "R04"})


@dataclass(frozen=True, slots=True)
class ReturnCode:
    """One NACHA return reason code and how long after settlement it may arrive."""

    code: str
    name: str
    group: ReturnGroup
    window_kind: WindowKind
    window_length: int

    @property
    def window(self) -> Window:
        return (self.window_kind, self.window_length)

    @property
    def disables_source(self) -> bool:
        """Whether the payer's bank account must be disabled and a new one required."""
        return self.code in _DISABLING_CODES

    @property
    def unauthorized(self) -> bool:
        """Whether the return counts toward the 0.5 % unauthorized return rate."""
        return self.group is ReturnGroup.UNAUTHORIZED

    @property
    def assigned(self) -> bool:
        """Whether Nacha gives the code a meaning (else its name is ``UNASSIGNED_NAME``)."""
        return self.group is not ReturnGroup.UNASSIGNED


_G = ReturnGroup

_RETURN_ROWS: Final[tuple[tuple[str, str, ReturnGroup, Window], ...]] = (
    ("R01", "Insufficient Funds", _G.FUNDS, _BD2),
    ("R02", "Account Closed", _G.ADMINISTRATIVE, _BD2),
    ("R03", "No Account/Unable to Locate Account", _G.ADMINISTRATIVE, _BD2),
    ("R04", "Invalid Account Number Structure", _G.ADMINISTRATIVE, _BD2),
    (
        "R05",
        "Unauthorized Debit to Consumer Account Using Corporate SEC Code",
        _G.UNAUTHORIZED,
        _CD60,
    ),
    ("R06", "Returned per ODFI's Request", _G.PROCESSING, _BD2),
    ("R07", "Authorization Revoked by Customer", _G.UNAUTHORIZED, _CD60),
    ("R08", "Payment Stopped", _G.STOP_PAYMENT, _BD2),
    ("R09", "Uncollected Funds", _G.FUNDS, _BD2),
    (
        "R10",
        "Customer Advises Originator is Not Known to Receiver and/or Originator is Not "
        "Authorized by Receiver to Debit Receiver's Account",
        _G.UNAUTHORIZED,
        _CD60,
    ),
    (
        "R11",
        "Customer Advises Entry Not in Accordance with the Terms of the Authorization",
        _G.UNAUTHORIZED,
        _CD60,
    ),
    ("R12", "Account Sold to Another DFI", _G.ADMINISTRATIVE, _BD2),
    ("R13", "Invalid ACH Routing Number", _G.ADMINISTRATIVE, _BD2),
    (
        "R14",
        "Representative Payee Deceased or Unable to Continue in That Capacity",
        _G.ADMINISTRATIVE,
        _BD2,
    ),
    (
        "R15",
        "Beneficiary or Account Holder (Other Than a Representative Payee) Deceased",
        _G.ADMINISTRATIVE,
        _BD2,
    ),
    ("R16", "Account Frozen/Entry Returned per OFAC Instruction", _G.ADMINISTRATIVE, _BD2),
    (
        "R17",
        "File Record Edit Criteria/Entry with Invalid Account Number Initiated Under "
        "Questionable Circumstances/Return of Improperly-Initiated Reversal",
        _G.PROCESSING,
        _BD2,
    ),
    ("R18", "Improper Effective Entry Date", _G.PROCESSING, _BD2),
    ("R19", "Amount Field Error", _G.PROCESSING, _BD2),
    ("R20", "Non-Transaction Account", _G.ADMINISTRATIVE, _BD2),
    ("R21", "Invalid Company Identification", _G.PROCESSING, _BD2),
    ("R22", "Invalid Individual ID Number", _G.PROCESSING, _BD2),
    ("R23", "Credit Entry Refused by Receiver", _G.STOP_PAYMENT, _BD2),
    ("R24", "Duplicate Entry", _G.STOP_PAYMENT, _BD2),
    ("R25", "Addenda Error", _G.PROCESSING, _BD2),
    ("R26", "Mandatory Field Error", _G.PROCESSING, _BD2),
    ("R27", "Trace Number Error", _G.PROCESSING, _BD2),
    ("R28", "Routing Number Check Digit Error", _G.PROCESSING, _BD2),
    # The one unauthorized code on the standard window (formats.md §3.3).
    ("R29", "Corporate Customer Advises Not Authorized", _G.UNAUTHORIZED, _BD2),
    ("R30", "RDFI Not Participant in Check Truncation Program", _G.PROCESSING, _BD2),
    ("R31", "Permissible Return Entry (CCD and CTX only)", _G.PROCESSING, _BD2),
    ("R32", "RDFI Non-Settlement", _G.PROCESSING, _BD2),
    ("R33", "Return of XCK Entry", _G.CHECK_CONVERSION, _CD60),
    ("R34", "Limited Participation DFI", _G.PROCESSING, _BD2),
    ("R35", "Return of Improper Debit Entry", _G.PROCESSING, _BD2),
    # Not in formats.md's table; grouped with its debit twin R35.
    ("R36", "Return of Improper Credit Entry", _G.PROCESSING, _BD2),
    ("R37", "Source Document Presented for Payment", _G.CHECK_CONVERSION, _CD60),
    ("R38", "Stop Payment on Source Document", _G.CHECK_CONVERSION, _CD60),
    (
        "R39",
        "Improper Source Document/Source Document Presented for Payment",
        _G.CHECK_CONVERSION,
        _BD2,
    ),
    ("R40", "Return of ENR Entry by Federal Government Agency", _G.GOVERNMENT, _BD2),
    ("R41", "Invalid Transaction Code", _G.GOVERNMENT, _BD2),
    ("R42", "Routing Number/Check Digit Error", _G.GOVERNMENT, _BD2),
    ("R43", "Invalid DFI Account Number", _G.GOVERNMENT, _BD2),
    ("R44", "Invalid Individual ID Number/Identification Number", _G.GOVERNMENT, _BD2),
    ("R45", "Invalid Individual Name/Company Name", _G.GOVERNMENT, _BD2),
    ("R46", "Invalid Representative Payee Indicator", _G.GOVERNMENT, _BD2),
    ("R47", "Duplicate Enrollment", _G.GOVERNMENT, _BD2),
    ("R50", "State Law Affecting RCK Acceptance", _G.CHECK_CONVERSION, _BD2),
    # An RCK code, but formats.md §3.3 counts it toward the unauthorized return rate.
    (
        "R51",
        "Item Related to RCK Entry is Ineligible or RCK Entry is Improper",
        _G.UNAUTHORIZED,
        _CD60,
    ),
    ("R52", "Stop Payment on Item Related to RCK Entry", _G.CHECK_CONVERSION, _CD60),
    ("R53", "Item and RCK Entry Presented for Payment", _G.CHECK_CONVERSION, _CD60),
    ("R61", "Misrouted Return", _G.DISHONORED, _BD5),
    ("R62", "Return of Erroneous or Reversing Debit", _G.DISHONORED, _BD5),
    ("R67", "Duplicate Return", _G.DISHONORED, _BD5),
    ("R68", "Untimely Return", _G.DISHONORED, _BD5),
    ("R69", "Field Error(s)", _G.DISHONORED, _BD5),
    (
        "R70",
        "Permissible Return Entry Not Accepted/Return Not Requested by ODFI",
        _G.DISHONORED,
        _BD5,
    ),
    ("R71", "Misrouted Dishonored Return", _G.CONTESTED, _BD2),
    ("R72", "Untimely Dishonored Return", _G.CONTESTED, _BD2),
    ("R73", "Timely Original Return", _G.CONTESTED, _BD2),
    ("R74", "Corrected Return", _G.CONTESTED, _BD2),
    ("R75", "Return Not a Duplicate", _G.CONTESTED, _BD2),
    ("R76", "No Errors Found", _G.CONTESTED, _BD2),
    ("R77", "Non-Acceptance of R62 Dishonored Return", _G.CONTESTED, _BD2),
    ("R80", "IAT Entry Coding Error", _G.IAT, _BD2),
    ("R81", "Non-Participant in IAT Program", _G.IAT, _BD2),
    ("R82", "Invalid Foreign Receiving DFI Identification", _G.IAT, _BD2),
    ("R83", "Foreign Receiving DFI Unable to Settle", _G.IAT, _BD2),
    ("R84", "Entry Not Processed by Gateway", _G.IAT, _BD2),
    ("R85", "Incorrectly Coded Outbound International Payment", _G.IAT, _BD2),
)

#: The name of a code Nacha has not assigned (issue 15: "the NACHA meaning where one exists and
#: 'unassigned' otherwise").
UNASSIGNED_NAME: Final = "Unassigned"
_ASSIGNED: Final = {code: (name, group, window) for code, name, group, window in _RETURN_ROWS}

RETURN_CODES: Final[dict[str, ReturnCode]] = {
    code: ReturnCode(code, name, group, kind, length)
    for code, (name, group, (kind, length)) in (
        (
            f"R{n:02d}",
            _ASSIGNED.get(f"R{n:02d}", (UNASSIGNED_NAME, ReturnGroup.UNASSIGNED, _BD2)),
        )
        for n in range(1, 100)
    )
}


def return_code(code: str) -> ReturnCode | None:
    """The return code for ``"R01"``-style input; ``None`` for anything else, even ``"r01"``."""
    return RETURN_CODES.get(code)


class CardNetwork(StrEnum):
    """The card networks whose chargeback reason codes the portal knows."""

    VISA = "visa"
    """Visa: dotted reason codes such as ``10.4`` (formats.md §5)."""
    MASTERCARD = "mastercard"
    """Mastercard: four-digit reason codes such as ``4837`` (formats.md §5)."""


class ChargebackCategory(StrEnum):
    """The network's own category of a chargeback reason (formats.md §5)."""

    FRAUD = "fraud"
    """Visa group 10, and Mastercard's fraud codes."""
    AUTHORIZATION = "authorization"
    """Visa group 11, and Mastercard 4808."""
    PROCESSING_ERROR = "processing_error"
    """Visa group 12."""
    CONSUMER_DISPUTE = "consumer_dispute"
    """Visa group 13."""
    POINT_OF_INTERACTION = "point_of_interaction"
    """Mastercard 4834: duplicate, wrong amount, late presentment, currency."""
    CARDHOLDER_DISPUTE = "cardholder_dispute"
    """Mastercard 4853 and the legacy codes it absorbed (4841, 4855, 4859, 4860)."""


# The merchant's time to respond to a first chargeback (formats.md §5: "treat as configurable
# defaults"; these are the defaults).
RESPONSE_DAYS: Final[dict[CardNetwork, int]] = {
    CardNetwork.VISA: 30,
    CardNetwork.MASTERCARD: 45,
}


@dataclass(frozen=True, slots=True)
class ChargebackReason:
    """One card-network chargeback reason code."""

    code: str
    name: str
    network: CardNetwork
    category: ChargebackCategory
    response_days: int


_C = ChargebackCategory
_VISA = CardNetwork.VISA
_MC = CardNetwork.MASTERCARD

_CHARGEBACK_ROWS: Final[tuple[tuple[str, str, CardNetwork, ChargebackCategory], ...]] = (
    ("10.1", "EMV Liability Shift Counterfeit Fraud", _VISA, _C.FRAUD),
    ("10.2", "EMV Liability Shift Non-Counterfeit Fraud", _VISA, _C.FRAUD),
    ("10.3", "Other Fraud: Card-Present Environment", _VISA, _C.FRAUD),
    ("10.4", "Other Fraud: Card-Absent Environment", _VISA, _C.FRAUD),
    ("10.5", "Visa Fraud Monitoring Program", _VISA, _C.FRAUD),
    ("11.1", "Card Recovery Bulletin", _VISA, _C.AUTHORIZATION),
    ("11.2", "Declined Authorization", _VISA, _C.AUTHORIZATION),
    ("11.3", "No Authorization", _VISA, _C.AUTHORIZATION),
    ("12.1", "Late Presentment", _VISA, _C.PROCESSING_ERROR),
    ("12.2", "Incorrect Transaction Code", _VISA, _C.PROCESSING_ERROR),
    ("12.3", "Incorrect Currency", _VISA, _C.PROCESSING_ERROR),
    ("12.4", "Incorrect Account Number", _VISA, _C.PROCESSING_ERROR),
    ("12.5", "Incorrect Amount", _VISA, _C.PROCESSING_ERROR),
    # 12.6 (Duplicate Processing/Paid by Other Means) is used only through its two conditions.
    ("12.6.1", "Duplicate Processing", _VISA, _C.PROCESSING_ERROR),
    ("12.6.2", "Paid by Other Means", _VISA, _C.PROCESSING_ERROR),
    ("12.7", "Invalid Data", _VISA, _C.PROCESSING_ERROR),
    ("13.1", "Merchandise/Services Not Received", _VISA, _C.CONSUMER_DISPUTE),
    ("13.2", "Cancelled Recurring Transaction", _VISA, _C.CONSUMER_DISPUTE),
    ("13.3", "Not as Described or Defective Merchandise/Services", _VISA, _C.CONSUMER_DISPUTE),
    ("13.4", "Counterfeit Merchandise", _VISA, _C.CONSUMER_DISPUTE),
    ("13.5", "Misrepresentation", _VISA, _C.CONSUMER_DISPUTE),
    ("13.6", "Credit Not Processed", _VISA, _C.CONSUMER_DISPUTE),
    ("13.7", "Cancelled Merchandise/Services", _VISA, _C.CONSUMER_DISPUTE),
    ("13.8", "Original Credit Transaction Not Accepted", _VISA, _C.CONSUMER_DISPUTE),
    ("13.9", "Non-Receipt of Cash or Load Transaction Value", _VISA, _C.CONSUMER_DISPUTE),
    ("4808", "Authorization-Related Chargeback", _MC, _C.AUTHORIZATION),
    ("4834", "Point-of-Interaction Error", _MC, _C.POINT_OF_INTERACTION),
    ("4837", "No Cardholder Authorization", _MC, _C.FRAUD),
    ("4840", "Fraudulent Processing of Transactions", _MC, _C.FRAUD),
    # 4841, 4855, 4859 and 4860 are legacy codes, still seen (formats.md §5); 4853 absorbed them.
    ("4841", "Cancelled Recurring or Digital Goods Transactions", _MC, _C.CARDHOLDER_DISPUTE),
    ("4849", "Questionable Merchant Activity", _MC, _C.FRAUD),
    ("4853", "Cardholder Dispute", _MC, _C.CARDHOLDER_DISPUTE),
    ("4855", "Goods or Services Not Provided", _MC, _C.CARDHOLDER_DISPUTE),
    ("4859", "Addendum, No-Show, or ATM Dispute", _MC, _C.CARDHOLDER_DISPUTE),
    ("4860", "Credit Not Processed", _MC, _C.CARDHOLDER_DISPUTE),
    ("4863", "Cardholder Does Not Recognize: Potential Fraud", _MC, _C.FRAUD),
    ("4870", "Chip Liability Shift", _MC, _C.FRAUD),
    ("4871", "Chip/PIN Liability Shift", _MC, _C.FRAUD),
)

CHARGEBACK_REASONS: Final[dict[str, ChargebackReason]] = {
    code: ChargebackReason(code, name, network, category, RESPONSE_DAYS[network])
    for code, name, network, category in _CHARGEBACK_ROWS
}


def chargeback_reason(code: str) -> ChargebackReason | None:
    """The chargeback reason for an exact code such as ``"10.4"`` or ``"4837"``, else ``None``."""
    return CHARGEBACK_REASONS.get(code)
