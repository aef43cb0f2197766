"""The booth path: ``POST /api/ingest/{slot_id}`` in, the edited image out."""
