"""Imports every ORM module so ``Base.metadata`` is complete (for Alembic and tests)."""

from photochanger.auth.models import Admin, RevokedToken
from photochanger.db import Base
from photochanger.events.models import Event
from photochanger.jobs.models import Job, JobAttempt
from photochanger.leases.models import Lease
from photochanger.media.models import ProviderMedia
from photochanger.routing.models import InFlightPermit, RouteStateRow
from photochanger.settings.models import AppSetting
from photochanger.slots.models import Slot, SlotAudit, SlotTemplate
from photochanger.spend.models import SpendTotal
from photochanger.throttle.models import ThrottleEvent
from photochanger.webhooks.models import WebhookDelivery

__all__ = [
    "Admin",
    "AppSetting",
    "Base",
    "Event",
    "InFlightPermit",
    "Job",
    "JobAttempt",
    "Lease",
    "ProviderMedia",
    "RevokedToken",
    "RouteStateRow",
    "Slot",
    "SlotAudit",
    "SlotTemplate",
    "SpendTotal",
    "ThrottleEvent",
    "WebhookDelivery",
]
