"""Bounded pools of worker threads for CPU-heavy work (image decode/encode, face detection,
argon2), so none of it runs on the event loop and a flood cannot take every core or every byte.

A :class:`WorkerPool` runs at most ``workers`` calls at once in its own threads (Pillow, libjpeg,
zlib, MediaPipe and argon2-cffi release the GIL while they work, so threads use every core) and
lets at most ``max_waiting`` more wait for a turn; a call beyond that is refused at once with
:class:`PoolBusy`. A wait may be bounded by a :class:`~photochanger.deadline.Deadline`: a call that
would only get a turn after the deadline never starts (``TimeoutError``), so the booth gets its
answer in time and no buffer is held for a photo nobody waits for any more. A ``background``
call (late work: an AI photo no booth waits for) starts only while no other call waits and a
worker is free, and never takes the last worker.
"""

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from photochanger.deadline import Deadline

T = TypeVar("T")
HEAVY_PIXELS = 20_000_000  # a frame this large takes a heavy turn (a 45 MP DSLR frame: ~1 CPU-s per decode)
HEAVY_BYTES = 8 * 1024 * 1024  # the same, judged by a JPEG's size when its pixels are not known yet


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
        self._heavy_turns: asyncio.Semaphore | None = None
        self._foreground = 0  # calls other than background ones waiting for a turn
        self._calm: asyncio.Event | None = None  # set whenever a turn frees or the foreground line shrinks

    async def run(
        self,
        fn: Callable[..., T],
        *args: object,
        deadline: Deadline | None = None,
        heavy: bool = False,
        background: bool = False,
    ) -> T:
        """``fn(*args)`` in a worker thread. Raises :class:`PoolBusy` when ``max_waiting`` calls
        already wait, ``TimeoutError`` when ``deadline`` passes before a turn, and whatever ``fn``
        raises.

        A ``heavy`` call (a frame of tens of megapixels) also needs one of ``workers - 1`` heavy
        turns, so one worker is always left for the small photos: six 49 MP frames cannot make a
        12 MP photo wait for all of them. A turn is given back when the thread's work ends, not when
        the caller stops waiting (a cancelled caller's thread still runs to its end: the pool never
        runs more calls than it has workers).

        A ``background`` call takes a heavy turn too, and waits until no other call waits and a
        worker is free: late work never delays a photo someone waits for."""
        if self._turns is None or self._calm is None:
            self._turns = asyncio.Semaphore(self.workers)
            self._heavy_turns = asyncio.Semaphore(max(1, self.workers - 1))
            self._calm = asyncio.Event()
        turns, calm = self._turns, self._calm
        lanes = [self._heavy_turns, turns] if heavy or background else [turns]
        if any(lane.locked() for lane in lanes) and self.waiting >= self.max_waiting:
            raise PoolBusy(self.name)
        self.waiting += 1
        self._foreground += 0 if background else 1
        taken: list[asyncio.Semaphore] = []
        try:
            async with asyncio.timeout(None if deadline is None else max(0.0, deadline.remaining())):
                while background and (self._foreground or turns.locked()):
                    calm.clear()
                    await calm.wait()
                for lane in lanes:
                    await lane.acquire()
                    taken.append(lane)
        except BaseException:
            for lane in taken:
                lane.release()
            raise
        finally:
            self.waiting -= 1
            if not background:
                self._foreground -= 1
                calm.set()
        work = asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

        def finished(done: asyncio.Future) -> None:
            for lane in taken:
                lane.release()
            calm.set()
            if not done.cancelled():
                done.exception()  # retrieved: the error of a caller that stopped waiting is not "never retrieved"

        work.add_done_callback(finished)
        return await asyncio.shield(work)

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
