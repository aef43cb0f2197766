"""FastAPI dependencies shared by every package's routes: :data:`Ctx`, the process's
:class:`~photochanger.context.AppContext`.

The context is the composition root (it is built from every package's parts), so this module
names it only as a type: routes depend on it through FastAPI's dependency injection, never by
importing it, and the packages stay acyclic.
"""

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

if TYPE_CHECKING:
    from photochanger.context import AppContext


async def app_context(request: Request) -> "AppContext":
    """The process's context: what the app's lifespan yielded as ``{"ctx": ...}``, which Starlette
    copies into every request's ``request.state`` (its *lifespan state*). In-process tests replace
    it with ``app.dependency_overrides[app_context]``. ``async`` on purpose: FastAPI runs a plain
    ``def`` dependency in a worker thread, a thread hop per request for a dictionary lookup."""
    return request.state.ctx


Ctx = Annotated["AppContext", Depends(app_context)]
"""A route parameter ``ctx: Ctx`` receives the :class:`~photochanger.context.AppContext`."""
