"""Backups: one archive with the database, the secret files and the media; restored and verified."""
