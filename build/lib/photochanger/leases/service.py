"""Claiming a lease for one period, so a periodic job runs once across every server process."""

import os
import socket
from datetime import timedelta

from photochanger.db import Database, utcnow
from photochanger.leases import repository

HOLDER = f"{socket.gethostname()}:{os.getpid()}"[:64]


async def claim(db: Database, name: str, seconds: float) -> bool:
    """True when this process got ``name`` for the next ``seconds`` (nobody else holds it)."""
    now = utcnow()
    async with db.transaction() as session:
        return await repository.claim(session, name, HOLDER, now, now + timedelta(seconds=seconds))
