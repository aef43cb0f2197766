"""Shapes of the export routes."""

from pydantic import BaseModel, Field


class ExportLink(BaseModel):
    """A download link of an event's export; ``url`` is relative to the server."""

    url: str
    expires_in: int = Field(description="seconds")
