"""The admin web UI, the public gallery and result pages (static files, no build step)."""
