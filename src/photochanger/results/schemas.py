"""Shapes of the public result routes."""

from typing import Literal

from pydantic import BaseModel, Field


class ResultStatus(BaseModel):
    """Where a guest's photo stands, for the take-home page to poll: ``ready`` (the result is
    there; ``late`` when it is the AI photo made after the booth's deadline), ``making`` (the AI
    photo is still being made; ``result_url`` then shows the booth's answer, if any), or
    ``unavailable`` (no photo will come). ``version`` changes when the result does."""

    state: Literal["ready", "making", "unavailable"]
    late: bool = False
    version: str | None = Field(default=None, description="changes whenever the result image changes")
    poll_seconds: float | None = Field(default=None, description="when to ask again (while making)")
    title: str | None = Field(default=None, description="the photo's event's title (or name), if any")
    colour: str | None = Field(default=None, description="#rrggbb: the event's colour")
    logo_url: str | None = Field(default=None, description="the event's logo")
