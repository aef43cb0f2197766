"""Bulk export of an event: a streamed ZIP of its results (and optionally originals) with
``photos.csv``."""
