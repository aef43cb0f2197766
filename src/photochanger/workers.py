"""Bounded pools of worker threads for CPU-heavy work (image decode/encode, face detection,
argon2), so none of it runs on the event loop and a flood cannot take every core or every byte.

A :class:`WorkerPool` runs at most ``workers`` calls at once in its own threads (Pillow, libjpeg,
zlib, MediaPipe and argon2-cffi release the GIL while they work, so threads use every core) and
lets at most ``max_waiting`` more wait for a turn; a call beyond that is refused at once with
:class:`PoolBusy`. A wait may be bounded by a :class:`~photochanger.deadline.Deadline`: a call that
would only get a turn after the deadline never starts (``TimeoutError``), so the booth gets its
answer in time and no buffer is held for a photo nobody waits for any more.
"""

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from photochanger.deadline import Deadline

T = TypeVar("T")


class PoolBusy(Exception):
    """The pool's waiting line is full; ``retry_after`` is a hint in whole seconds."""

    def __init__(self, pool: str, retry_after: int = 1) -> None:
        super().__init__(f"the {pool} pool is busy")
        self.pool = pool
        self.retry_after = retry_after


class WorkerPool:
    """``workers`` threads, at most ``max_waiting`` calls waiting for one (see module docstring).

    Created outside a running loop; the semaphore is made on first use in the loop that uses it.
    """

    def __init__(self, name: str, workers: int, max_waiting: int) -> None:
        self.name = name
        self.workers = workers
        self.max_waiting = max_waiting
        self.waiting = 0
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"photochanger-{name}")
        self._turns: asyncio.Semaphore | None = None

    async def run(self, fn: Callable[..., T], *args: object, deadline: Deadline | None = None) -> T:
        """``fn(*args)`` in a worker thread. Raises :class:`PoolBusy` when ``max_waiting`` calls
        already wait, ``TimeoutError`` when ``deadline`` passes before a turn, and whatever ``fn``
        raises."""
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.workers)
        if self._turns.locked() and self.waiting >= self.max_waiting:
            raise PoolBusy(self.name)
        self.waiting += 1
        try:
            if deadline is None:
                await self._turns.acquire()
            else:
                async with asyncio.timeout(max(0.0, deadline.remaining())):
                    await self._turns.acquire()
        finally:
            self.waiting -= 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._turns.release()

    def shutdown(self) -> None:
        """Stop the threads once running calls end (at process exit)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def cpu_workers() -> int:
    """Threads for image work: the CPUs this process may use (at least 2)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 2
    return max(2, usable)
