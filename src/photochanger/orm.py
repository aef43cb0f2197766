"""Imports every ORM module so ``Base.metadata`` is complete (for Alembic and tests)."""

from photochanger.db import Base
from photochanger.jobs.models import Job, JobAttempt
from photochanger.settings.models import AppSetting
from photochanger.slots.models import Slot, SlotTemplate

__all__ = ["AppSetting", "Base", "Job", "JobAttempt", "Slot", "SlotTemplate"]
