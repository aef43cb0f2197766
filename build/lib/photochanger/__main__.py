"""``python -m photochanger`` runs the CLI."""

from photochanger.cli import app

app()
