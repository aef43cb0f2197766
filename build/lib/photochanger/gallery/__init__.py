"""The public gallery, shared for a limited time."""
