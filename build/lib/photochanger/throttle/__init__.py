"""Throttles of clients without credentials: one interface (:class:`service.Throttle`) with a memory
store and a database store, the ingest password guard, the gate of uploads not yet authenticated and
the log of refused booth requests."""
