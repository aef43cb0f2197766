"""Leases: which process does a periodic job this period (e.g. the maintenance loop)."""
