"""Run-time settings stored in the database (ingest password, deadline, result TTL)."""
