"""Structured JSON logs on stdout (structlog). Never log passwords, keys or image bytes."""

import logging
import sys

import structlog


def configure_logging(level: str = "INFO") -> None:
    """JSON lines with ISO timestamps; stdlib loggers (uvicorn, alembic) go through the same output."""
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level.upper(), force=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
