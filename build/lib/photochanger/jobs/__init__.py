"""Jobs: one row per ingest that reaches a slot, with its attempts."""
