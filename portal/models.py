"""Imports every feature's tables (and so their jobs) for Alembic and the mapper registry
(style.md B1). Import this before using any model."""

from portal.auth.models import Integration, IntegrationToken, LandlordUser, ServerSecret
from portal.idempotency import IdempotencyRecord
from portal.ids import IdCounter
from portal.jobs import ScheduledEvent
from portal.notifications.models import Email
from portal.properties.models import DepositAccount, DepositAccountProperty, Property, Unit
from portal.workspaces.models import Workspace

__all__ = [
    "DepositAccount",
    "DepositAccountProperty",
    "Email",
    "Property",
    "Unit",
    "IdCounter",
    "IdempotencyRecord",
    "Integration",
    "IntegrationToken",
    "LandlordUser",
    "ScheduledEvent",
    "ServerSecret",
    "Workspace",
]
