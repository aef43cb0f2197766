"""Unit-test helpers for routing: a scripted provider on the event loop's (virtual) clock."""

import asyncio
import random
from dataclasses import dataclass, field
from typing import ClassVar

import pytest
from pydantic import BaseModel

from photochanger.clock import Clock
from photochanger.deadline import Deadline
from photochanger.providers.base import (
    FailureKind,
    InputImage,
    ProviderFailure,
    ProviderImage,
    ProviderRequest,
    ProviderSettings,
)
from photochanger.routing.breaker import BreakerPolicy
from photochanger.routing.health import KeyRing, MemoryStateStore, RouteHealth
from photochanger.routing.router import Finished, Route, RunContext

#: Every test here runs on virtual time: sleeps and timeouts take no wall time, and the clock
#: reads exact seconds.
pytestmark = [pytest.mark.looptime, pytest.mark.asyncio(loop_scope="function")]


class NoSettings(ProviderSettings):
    """Settings of the scripted provider."""


@dataclass
class Step:
    """One scripted answer: after ``seconds``, an image (``kind`` None), a failure of ``kind``,
    or ``raise_`` an arbitrary exception; ``seconds=None`` hangs."""

    seconds: float | None = 1.0
    kind: FailureKind | None = None
    code: str = "scripted"
    retry_after: float | None = None
    raise_: Exception | None = None


@dataclass
class ScriptedProvider:
    """A provider whose answers follow ``steps`` (then ``default``); records (time, api_key)."""

    name: str = "fake"
    model: str = "m1"
    steps: list[Step] = field(default_factory=list)
    default: Step = field(default_factory=Step)
    calls: list[tuple[float, str | None]] = field(default_factory=list)
    settings_model: ClassVar[type[BaseModel]] = NoSettings
    requires_prompt: ClassVar[bool] = False
    circuit_breaker: ClassVar[bool] = True

    def model_name(self, settings: BaseModel) -> str | None:
        return self.model

    def typical_latency(self, settings: BaseModel) -> float:
        return 1.0

    async def generate(self, request: ProviderRequest) -> ProviderImage:
        self.calls.append((asyncio.get_running_loop().time(), request.api_key))
        step = self.steps.pop(0) if self.steps else self.default
        if step.seconds is None:
            await asyncio.sleep(10_000)
        await asyncio.sleep(step.seconds)
        if step.raise_ is not None:
            raise step.raise_
        if step.kind is not None:
            raise ProviderFailure(step.kind, step.code, "scripted failure", retry_after=step.retry_after)
        return ProviderImage(b"IMAGE:" + self.name.encode(), self.model, f"req-{len(self.calls)}")


def route(
    provider: ScriptedProvider,
    index: int = 0,
    *,
    typical: float = 1.0,
    attempt_timeout: float = 10.0,
    hedge_after: float | None = None,
    scope: str | None = None,
) -> Route:
    """A route over ``provider`` with explicit timing (seconds), for the slot ``scope``."""
    return Route(index, provider, NoSettings(), "prompt", typical, attempt_timeout, hedge_after, scope=scope)


class Harness:
    """Route health in memory, a key ring, and a run context factory, all on one clock."""

    def __init__(self, threshold: int = 3, probe_interval: float = 30.0) -> None:
        self.clock = Clock()
        self.store = MemoryStateStore()
        self.health = RouteHealth(self.store, BreakerPolicy(threshold, probe_interval), self.clock)
        self.keyring = KeyRing(self.clock, aside=600)
        self.keys: dict[str, list[str]] = {}

    def context(self, seconds: float = 48.0) -> RunContext:
        async def finish(_route: Route, image: ProviderImage) -> Finished:
            if not image.data.startswith(b"IMAGE:"):
                raise ValueError("not an image")
            return Finished(image.data)

        return RunContext(
            photo=InputImage(b"photo", "image/jpeg"),
            templates=[],
            deadline=Deadline.after(seconds, clock=self.clock),
            health=self.health,
            keyring=self.keyring,
            keys=lambda name: self.keys.get(name, []),
            finish=finish,
            rng=random.Random(7),
        )

    def now(self) -> float:
        return self.clock.monotonic()
