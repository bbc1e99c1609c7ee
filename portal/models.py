"""Imports every feature's tables for Alembic and the mapper registry (style.md B1). Import
this before using any model. (The jobs are listed in ``portal.sandbox.jobs``.)"""

from portal.applicants.models import Applicant, Application
from portal.auth.models import Integration, IntegrationToken, LandlordUser, ServerSecret
from portal.connectors.models import ImportRun
from portal.core.idempotency import IdempotencyRecord
from portal.core.ids import IdCounter
from portal.core.jobs import ScheduledEvent
from portal.events.models import Event
from portal.journal.models import JournalBatch, JournalBody
from portal.notifications.models import Email, EmailAttachment
from portal.outbox.models import Delivery
from portal.payments.models import (
    DepositBatch,
    Payment,
    PaymentAlert,
    PaymentSource,
    RecurringPayment,
    Reversal,
)
from portal.properties.models import DepositAccount, DepositAccountProperty, Property, Unit
from portal.receipts.models import ProcessedBatch
from portal.residents.maintenance import TenantMaintenance
from portal.residents.models import (
    AccountingRecord,
    Lease,
    LeaseEvent,
    LeaseResident,
    Resident,
)
from portal.reversals.models import Dispute
from portal.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from portal.work_orders.models import WorkOrder, WorkOrderEvent
from portal.workspaces.models import Workspace

# The renderers of the objects events are about (every process that reads events has them).
import portal.objects  # noqa: F401  # isort: skip

__all__ = [
    "AccountingRecord",
    "Applicant",
    "Application",
    "Delivery",
    "DepositAccount",
    "DepositAccountProperty",
    "DepositBatch",
    "Dispute",
    "Email",
    "EmailAttachment",
    "Event",
    "IdCounter",
    "IdempotencyRecord",
    "ImportRun",
    "Integration",
    "IntegrationToken",
    "JournalBatch",
    "JournalBody",
    "LandlordUser",
    "Lease",
    "LeaseEvent",
    "LeaseResident",
    "Payment",
    "PaymentAlert",
    "PaymentSource",
    "ProcessedBatch",
    "Property",
    "RecurringPayment",
    "Resident",
    "Reversal",
    "ScheduledEvent",
    "ServerSecret",
    "TenantMaintenance",
    "Unit",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkOrder",
    "WorkOrderEvent",
    "Workspace",
]
