"""Which error codes each operation can answer: one table, applied when the OpenAPI document is
generated (issue 18, stumble 7), so Swagger UI and ReDoc show under each status the stable
``code``\\ s a client must handle instead of one generic problem.

An operation's codes are those the table names for it plus those that follow from what the
route is (``codes_of``): its principal (401s), a ``{workspace_id}`` in an operator path (404
``workspace_not_found``), a JSON body (400 ``malformed_json``, 415 ``unsupported_media_type``,
422 ``validation_failed``), a cursor (400 ``invalid_cursor``), an ``Idempotency-Key``, a write
(409 ``concurrent_update``: a lost compare-and-set or a PostgreSQL deadlock; retry), and every
request's 413 and 422 ``invalid_character``. The entries are error classes, so a code that no
longer exists fails at import; a code raised as a generic class with ``code=`` is an
``Adhoc``. ``portal_tests/docs/test_openapi_errors.py`` checks that the table covers every
route and that each code is in the hierarchy (or raised where the ``Adhoc`` says).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from portal.applicants.service import (
    ApplicantFrozen,
    ApplicantNotFound,
    ApplicationNotFound,
    InvalidApplicants,
    ReasonsRequired,
)
from portal.auth.service import (
    EmailTaken,
    FeatureNotEnabled,
    IntegrationNotFound,
    InvalidCredentials,
    TokenExpired,
    TokenInvalid,
    TokenNotFound,
    TokenRevoked,
)
from portal.balances.service import BankAccountMissing, DuplicateResidentId, UnknownPropertyId
from portal.connectors.errors import (
    ImportRunNotFound,
    IntegrationNotConnected,
    IntegrationNotImportable,
)
from portal.core.errors import (
    BadRequest,
    ConcurrentUpdate,
    InvalidTransition,
    NotFound,
    PayloadTooLarge,
    PortalError,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)
from portal.core.idempotency import IdempotencyKeyInFlight, IdempotencyKeyReused
from portal.events.router import OperatorWorkspaceRequired
from portal.events.service import EventNotFound, UnknownEventType
from portal.journal.service import JournalDisabled
from portal.outbox.service import DeliveryNotFound, DeliveryNotRetryable
from portal.payments.errors import (
    AmountMustEqualBalance,
    AmountNotPositive,
    AmountOverLimit,
    BatchIdTaken,
    CardDeclined,
    CardExpired,
    CashEquivalentOnly,
    DailyPaymentLimitReached,
    DateInPast,
    DateTooFar,
    DepositBatchNotFound,
    InvalidCardNumber,
    LeaseNotPayable,
    NoDepositAccount,
    PaymentNotFound,
    PaymentsBlocked,
    PaymentSourceDisabled,
    PaymentSourceNotFound,
    RecurringNotActive,
    RecurringPaymentNotFound,
)
from portal.properties.accounts import DepositAccountNotFound, DepositAccountTypeTaken
from portal.properties.service import (
    PropertyExternalIdTaken,
    PropertyNotFound,
    UnitExternalIdTaken,
    UnitNameTaken,
    UnitNotFound,
)
from portal.receipts.service import ReceiptBatchNotFound
from portal.reports.schemas import InvalidMonth
from portal.residents.leases import (
    AmsiResidentIdFormat,
    LeaseFinished,
    LeaseNotFound,
    ResidentIdTaken,
)
from portal.residents.service import (
    AddressNotEditable,
    InviteAlreadyAccepted,
    InviteNotFound,
    MergeNotPossible,
    NoAccountingMatch,
    PropertyMissing,
    ResidentEmailTaken,
    ResidentNotDeletable,
    ResidentNotFound,
    ResidentNotPending,
    UnitMissing,
    WorkspaceRequired,
)
from portal.reversals.errors import (
    DisputeNotFound,
    DisputeNotOpen,
    InvalidReasonCode,
    InvalidReturnCode,
    PaymentNotChargeable,
    PaymentNotRefundable,
    PaymentNotReturnable,
    PaymentNotVoidable,
    ReturnWindowClosed,
    ReversalNotFound,
)
from portal.sandbox.clock import AdvanceTooFar, ClockBackwards
from portal.sandbox.scenario_loads import ScenarioBeforeClock
from portal.sandbox.scenarios import ScenarioRefused
from portal.webhooks.service import (
    EndpointNotFound,
    NothingToResend,
    UrlNotAllowed,
    WebhookDeliveryNotFound,
)
from portal.work_orders.service import NoLeaseToReport, WorkOrderNotFound, WorkOrderNumberTaken
from portal.workspaces.service import WorkspaceExists, WorkspaceNotFound


@dataclass(frozen=True)
class Adhoc:
    """A code without a class of its own: raised as ``base(..., code=...)``, rendered by a
    handler in ``portal.main`` or the input guard, or a field code pydantic reports as the
    problem's ``code`` (``portal.main._OWN_CODES``)."""

    base: type[PortalError]
    code: str
    meaning: str

    @property
    def status_code(self) -> int:
        return self.base.status_code

    @property
    def title(self) -> str:
        return self.base.title


Error = type[PortalError] | Adhoc

MALFORMED_JSON = Adhoc(BadRequest, "malformed_json", "The body is not JSON.")
INVALID_ENCODING = Adhoc(BadRequest, "invalid_encoding", "The JSON body is not UTF-8.")
INVALID_CURSOR = Adhoc(BadRequest, "invalid_cursor", "The cursor is not one this server issued.")
INVALID_OPERATOR_KEY = Adhoc(Unauthorized, "invalid_operator_key", "The operator key is wrong.")
ATTACHMENT_NOT_FOUND = Adhoc(NotFound, "attachment_not_found", "The e-mail has no such attachment.")
RESIDENT_NOT_FOUND = Adhoc(NotFound, "resident_not_found", "No such resident.")
INVALID_CHARACTER = Adhoc(
    Unprocessable, "invalid_character", "NUL or a lone surrogate in a field, parameter or header."
)
INVALID_IDEMPOTENCY_KEY = Adhoc(
    Unprocessable, "invalid_idempotency_key", "An Idempotency-Key is 1 to 255 characters."
)
INVALID_SCENARIO = Adhoc(Unprocessable, "invalid_scenario", "The scenario document is not valid.")
INVALID_DURATION = Adhoc(Unprocessable, "invalid_duration", "`by` is not an ISO 8601 duration.")
INVALID_DATETIME = Adhoc(Unprocessable, "invalid_datetime", "Not an RFC 3339 instant.")
INVALID_TIME = Adhoc(Unprocessable, "invalid_time", "Not a New York wall-clock time (19:45).")
INVALID_AMOUNT = Adhoc(Unprocessable, "invalid_amount", "Not a decimal string with two places.")
EXACTLY_ONE_REQUIRED = Adhoc(
    Unprocessable, "exactly_one_required", "Send exactly one of the alternatives."
)
INVALID_ROUTING_NUMBER = Adhoc(
    Unprocessable, "invalid_routing_number", "The routing number fails the ABA check."
)
INVALID_ACCOUNT_NUMBER = Adhoc(
    Unprocessable, "invalid_account_number", "The account number is not 4 to 17 digits."
)

#: Every ``Adhoc`` above (the test checks each is really raised or rendered).
ADHOC: tuple[Adhoc, ...] = (
    MALFORMED_JSON,
    INVALID_ENCODING,
    INVALID_CURSOR,
    INVALID_OPERATOR_KEY,
    ATTACHMENT_NOT_FOUND,
    RESIDENT_NOT_FOUND,
    INVALID_CHARACTER,
    INVALID_IDEMPOTENCY_KEY,
    INVALID_SCENARIO,
    INVALID_DURATION,
    INVALID_DATETIME,
    INVALID_TIME,
    INVALID_AMOUNT,
    EXACTLY_ONE_REQUIRED,
    INVALID_ROUTING_NUMBER,
    INVALID_ACCOUNT_NUMBER,
)

# --- what follows from the route ----------------------------------------------------------------

#: Any request: a JSON body that is not UTF-8, a body beyond the limit, a character the
#: databases refuse (portal.core.inputs).
EVERY_REQUEST: tuple[Error, ...] = (INVALID_ENCODING, PayloadTooLarge, INVALID_CHARACTER)
#: A route with parameters or a body.
VALIDATED: tuple[Error, ...] = (Unprocessable,)
#: A route that takes a JSON body.
JSON_BODY: tuple[Error, ...] = (MALFORMED_JSON, UnsupportedMediaType)
#: A list with ``?cursor=``.
PAGED: tuple[Error, ...] = (INVALID_CURSOR,)
#: A route taking ``Idempotency-Key``.
IDEMPOTENT: tuple[Error, ...] = (
    INVALID_IDEMPOTENCY_KEY,
    IdempotencyKeyReused,
    IdempotencyKeyInFlight,
)
#: Any write: a lost compare-and-set or a PostgreSQL deadlock; nothing was done, retry.
WRITE: tuple[Error, ...] = (ConcurrentUpdate,)
#: Per principal (the security scheme's name, ``portal.docs.security``).
PRINCIPAL: Mapping[str, tuple[Error, ...]] = {
    "OperatorKey": (Unauthorized, INVALID_OPERATOR_KEY),
    "LandlordSession": (Unauthorized, TokenInvalid, TokenExpired),
    "IntegrationToken": (Unauthorized, TokenInvalid, TokenRevoked),
    "ResidentSession": (Unauthorized, TokenInvalid, TokenExpired),
}
#: The operator acting on one workspace of the path.
OPERATOR_WORKSPACE: tuple[Error, ...] = (WorkspaceNotFound,)

# --- what each operation's own rules answer -----------------------------------------------------

_RETURN = (PaymentNotFound, InvalidReturnCode, PaymentNotReturnable, ReturnWindowClosed)
_ADDRESS = (PropertyNotFound, UnitNotFound, AddressNotEditable, PropertyMissing, UnitMissing)
_PAYMENT_RULES = (
    LeaseNotPayable,
    PaymentSourceDisabled,
    CardExpired,
    AmountNotPositive,
    AmountOverLimit,
    PaymentsBlocked,
    CashEquivalentOnly,
    AmountMustEqualBalance,
    NoDepositAccount,
    DailyPaymentLimitReached,
    CardDeclined,
)

#: operationId -> the codes of its own rules (an empty tuple: nothing beyond the route's kind).
OPERATION_ERRORS: Mapping[str, tuple[Error, ...]] = {
    # ops
    "healthz": (),
    "readyz": (),
    # sandbox (operator)
    "create_workspace": (WorkspaceExists, EmailTaken, INVALID_DATETIME, INVALID_TIME),
    "list_workspaces": (),
    "get_workspace": (),
    "delete_workspace": (),
    "reset_workspace": (),
    "get_clock": (),
    "advance_clock": (
        ClockBackwards,
        AdvanceTooFar,
        INVALID_DURATION,
        INVALID_DATETIME,
        EXACTLY_ONE_REQUIRED,
    ),
    "load_scenario": (
        INVALID_SCENARIO,
        ScenarioRefused,
        ScenarioBeforeClock,
        ClockBackwards,
        AdvanceTooFar,
        EmailTaken,
        BatchIdTaken,
        WorkOrderNumberTaken,
        ResidentIdTaken,
    ),
    "create_workspace_from_scenario": (
        WorkspaceExists,
        INVALID_SCENARIO,
        ScenarioRefused,
        ClockBackwards,
        AdvanceTooFar,
        EmailTaken,
        BatchIdTaken,
        WorkOrderNumberTaken,
        ResidentIdTaken,
    ),
    "check_workspaces": (),
    "check_workspace": (),
    "get_mailbox": (),
    "get_attachment": (ATTACHMENT_NOT_FOUND,),
    "get_events": (UnknownEventType,),
    # events and webhooks (landlord, integration, or operator with ?workspace=)
    "list_events": (OperatorWorkspaceRequired, WorkspaceNotFound, UnknownEventType),
    "create_webhook_endpoint": (
        OperatorWorkspaceRequired,
        WorkspaceNotFound,
        UrlNotAllowed,
        UnknownEventType,
    ),
    "list_webhook_endpoints": (OperatorWorkspaceRequired, WorkspaceNotFound),
    "get_webhook_endpoint": (OperatorWorkspaceRequired, WorkspaceNotFound, EndpointNotFound),
    "update_webhook_endpoint": (
        OperatorWorkspaceRequired,
        WorkspaceNotFound,
        EndpointNotFound,
        UrlNotAllowed,
        UnknownEventType,
    ),
    "delete_webhook_endpoint": (OperatorWorkspaceRequired, WorkspaceNotFound, EndpointNotFound),
    "list_webhook_deliveries": (OperatorWorkspaceRequired, WorkspaceNotFound, EndpointNotFound),
    "get_webhook_delivery": (
        OperatorWorkspaceRequired,
        WorkspaceNotFound,
        EndpointNotFound,
        WebhookDeliveryNotFound,
    ),
    "resend_webhook_events": (
        OperatorWorkspaceRequired,
        WorkspaceNotFound,
        EndpointNotFound,
        EventNotFound,
        NothingToResend,
        EXACTLY_ONE_REQUIRED,
        INVALID_DATETIME,
    ),
    # the request journal (operator)
    "get_journal": (JournalDisabled, INVALID_DATETIME),
    "verify_journal": (JournalDisabled, EXACTLY_ONE_REQUIRED, INVALID_DATETIME),
    "reset_journal": (JournalDisabled,),
    "get_operator_journal": (JournalDisabled, INVALID_DATETIME),
    "verify_operator_journal": (JournalDisabled, EXACTLY_ONE_REQUIRED, INVALID_DATETIME),
    "reset_operator_journal": (JournalDisabled,),
    "return_payment": _RETURN,
    "charge_back_payment": (PaymentNotFound, InvalidReasonCode, PaymentNotChargeable),
    "sandbox_sync_integration": (
        IntegrationNotFound,
        IntegrationNotImportable,
        IntegrationNotConnected,
    ),
    # auth and integrations (landlord)
    "login": (InvalidCredentials,),
    "create_integration": (),
    "list_integrations": (),
    "get_integration": (IntegrationNotFound,),
    "update_integration": (IntegrationNotFound,),
    "create_token": (IntegrationNotFound,),
    "list_tokens": (IntegrationNotFound,),
    "revoke_token": (IntegrationNotFound, TokenNotFound),
    "sync_integration": (IntegrationNotFound, IntegrationNotImportable, IntegrationNotConnected),
    "list_import_runs": (IntegrationNotFound,),
    "get_import_run": (IntegrationNotFound, ImportRunNotFound),
    "list_deliveries": (IntegrationNotFound,),
    "get_delivery": (IntegrationNotFound, DeliveryNotFound),
    "retry_delivery": (IntegrationNotFound, DeliveryNotFound, DeliveryNotRetryable),
    # properties
    "create_property": (PropertyExternalIdTaken, IntegrationNotFound),
    "list_properties": (),
    "get_property": (PropertyNotFound,),
    "update_property": (PropertyNotFound, PropertyExternalIdTaken, IntegrationNotFound),
    "create_unit": (PropertyNotFound, UnitNameTaken, UnitExternalIdTaken),
    "list_units": (PropertyNotFound,),
    "get_unit": (UnitNotFound,),
    "create_deposit_account": (
        PropertyNotFound,
        DepositAccountTypeTaken,
        INVALID_ROUTING_NUMBER,
        INVALID_ACCOUNT_NUMBER,
    ),
    "list_deposit_accounts": (),
    "get_deposit_account": (DepositAccountNotFound,),
    "replace_deposit_account_properties": (
        DepositAccountNotFound,
        PropertyNotFound,
        DepositAccountTypeTaken,
    ),
    # residents and leases (landlord)
    "list_residents": (),
    "invite_resident": (*_ADDRESS, ResidentEmailTaken, ResidentIdTaken, AmsiResidentIdFormat),
    "get_resident": (ResidentNotFound,),
    "update_resident": (
        ResidentNotFound,
        *_ADDRESS,
        ResidentEmailTaken,
        ResidentIdTaken,
        AmsiResidentIdFormat,
        LeaseFinished,
    ),
    "approve_resident": (
        ResidentNotFound,
        ResidentNotPending,
        PropertyMissing,
        UnitMissing,
        NoAccountingMatch,
        MergeNotPossible,
        ResidentIdTaken,
        AmsiResidentIdFormat,
        InvalidTransition,
    ),
    "merge_resident": (ResidentNotFound, ResidentNotPending, MergeNotPossible, InvalidTransition),
    "delete_resident": (ResidentNotFound, ResidentNotDeletable, InvalidTransition),
    "get_lease": (LeaseNotFound,),
    "update_lease": (LeaseNotFound, LeaseFinished, ResidentIdTaken, AmsiResidentIdFormat),
    "end_lease": (LeaseNotFound, LeaseFinished),
    # residents (public, then resident session)
    "signup": (
        WorkspaceNotFound,
        WorkspaceRequired,
        PropertyNotFound,
        UnitNotFound,
        ResidentEmailTaken,
    ),
    "resident_login": (InvalidCredentials, WorkspaceRequired),
    "accept_invite": (InviteNotFound, InviteAlreadyAccepted, ResidentEmailTaken),
    "my_leases": (),
    # integration (the accounting client)
    "last_error": (),
    "send_balances": (
        UnknownPropertyId,
        DuplicateResidentId,
        BankAccountMissing,
        AmsiResidentIdFormat,
        INVALID_AMOUNT,
    ),
    "list_roster": (),
    "synchronize": (),
    "list_receipt_batches": (),
    "load_receipts": (ReceiptBatchNotFound,),
    "lockbox_file": (ReceiptBatchNotFound,),
    "mark_processed": (ReceiptBatchNotFound,),
    "mark_unprocessed": (ReceiptBatchNotFound,),
    "retrieve_work_orders": (FeatureNotEnabled, INVALID_DATETIME),
    "retrieve_applicants": (FeatureNotEnabled, INVALID_DATETIME),
    "accept_applicant": (FeatureNotEnabled, ApplicantNotFound),
    # payments, deposits, reversals, reports (landlord)
    "list_payments": (),
    "list_deposit_batches": (),
    "get_deposit_batch": (DepositBatchNotFound,),
    "get_payment": (PaymentNotFound,),
    "void_payment": (PaymentNotFound, PaymentNotVoidable),
    "refund_payment": (PaymentNotFound, PaymentNotRefundable, INVALID_AMOUNT),
    "list_reversals": (),
    "get_reversal": (ReversalNotFound,),
    "list_disputes": (),
    "get_dispute": (DisputeNotFound,),
    "accept_dispute": (DisputeNotFound, DisputeNotOpen),
    "challenge_dispute": (DisputeNotFound, DisputeNotOpen),
    "batch_deposit_report": (),
    "external_deposits_report": (InvalidMonth,),
    # payments (resident)
    "add_payment_source": (
        InvalidCardNumber,
        CardExpired,
        INVALID_ROUTING_NUMBER,
        INVALID_ACCOUNT_NUMBER,
    ),
    "my_payment_sources": (),
    "make_payment": (
        LeaseNotFound,
        PaymentSourceNotFound,
        DateInPast,
        DateTooFar,
        INVALID_AMOUNT,
        *_PAYMENT_RULES,
    ),
    "my_payments": (),
    "my_payment": (PaymentNotFound,),
    "add_recurring_payment": (
        LeaseNotFound,
        PaymentSourceNotFound,
        INVALID_AMOUNT,
        *_PAYMENT_RULES[:-1],
    ),
    "my_recurring_payments": (),
    "stop_recurring_payment": (RecurringPaymentNotFound, RecurringNotActive),
    "cancel_payment": (PaymentNotFound, PaymentNotVoidable),
    # work orders
    "create_work_order": (
        PropertyNotFound,
        UnitNotFound,
        RESIDENT_NOT_FOUND,
        WorkOrderNumberTaken,
    ),
    "list_work_orders": (),
    "get_work_order": (WorkOrderNotFound,),
    "update_work_order": (WorkOrderNotFound, InvalidTransition),
    "report_work_order": (NoLeaseToReport,),
    "my_work_orders": (),
    # applicants
    "list_applicants": (),
    "get_applicants": (ApplicationNotFound,),
    "screen_applicants": (ApplicationNotFound, InvalidTransition),
    "decide_applicants": (ApplicationNotFound, InvalidTransition, ReasonsRequired),
    "update_application": (ApplicationNotFound, ApplicantFrozen),
    "update_applicant": (ApplicationNotFound, ApplicantNotFound, ApplicantFrozen),
    "apply": (UnitNotFound, InvalidApplicants),
    "my_applications": (),
}


#: Statuses a route's ``responses=`` declares that none of its rules answers: left out of the
#: document (any other declared status without a code here fails the tests).
NOT_ANSWERED: Mapping[str, frozenset[int]] = {
    # No active lease is 422 no_active_lease; there is no 404.
    "report_work_order": frozenset({404}),
}


@dataclass(frozen=True)
class RouteKind:
    """What an operation is, as far as its errors go (read off the route)."""

    schemes: tuple[str, ...]
    operator_workspace: bool
    json_body: bool
    validated: bool
    paged: bool
    idempotent: bool
    write: bool


def codes_of(operation_id: str, kind: RouteKind) -> list[Error]:
    """Every error the operation can answer, without repeats, in a stable order."""
    errors: list[Error] = []
    for scheme in kind.schemes:
        errors += PRINCIPAL[scheme]
    if kind.operator_workspace:
        errors += OPERATOR_WORKSPACE
    errors += OPERATION_ERRORS.get(operation_id, ())
    if kind.json_body:
        errors += JSON_BODY
    if kind.paged:
        errors += PAGED
    if kind.idempotent:
        errors += IDEMPOTENT
    if kind.write:
        errors += WRITE
    if kind.validated:
        errors += VALIDATED
    errors += EVERY_REQUEST
    return _unique(errors)


def _unique(errors: Iterable[Error]) -> list[Error]:
    seen: set[str] = set()
    out = []
    for error in errors:
        if error.code not in seen:
            seen.add(error.code)
            out.append(error)
    return out


def hierarchy() -> dict[str, int]:
    """Every code of the error hierarchy (each ``PortalError`` subclass) with its status."""
    codes: dict[str, int] = {}
    pending: list[type[PortalError]] = [PortalError]
    while pending:
        cls = pending.pop()
        codes.setdefault(cls.code, cls.status_code)
        pending += cls.__subclasses__()
    return codes
