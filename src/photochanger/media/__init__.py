"""Media files under MEDIA_ROOT: atomic writes, image checks and normalisation, cleanup."""
