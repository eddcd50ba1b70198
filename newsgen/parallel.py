"""Work on all cores: an ordered map over worker processes, or in-process for small jobs."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.synchronize import Event
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many items, starting workers costs more than it saves.
MIN_PARALLEL = 64


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _Worker:
    """What a worker process runs, set once when it starts (forked: nothing is pickled)."""

    fn: Callable[[Any], Any] | None = None
    cancelled: Event | None = None


def _worker_setup(
    fn: Callable[[Any], Any], cancelled: Event, initializer: Callable[[], None] | None
) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool; workers printing
    # their own KeyboardInterrupt tracebacks would only bury its message.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent pauses its cycle collector while it builds; a worker runs the site's own
    # template code, so its collector runs as usual.
    gc.enable()
    _Worker.fn, _Worker.cancelled = fn, cancelled
    if initializer:
        initializer()


def _call(item: Any) -> Any:
    assert _Worker.fn is not None and _Worker.cancelled is not None
    return None if _Worker.cancelled.is_set() else _Worker.fn(item)


def run(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    jobs: int,
    progress: Callable[[int], None] | None = None,
    initializer: Callable[[], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
    chunk: int | None = None,
    size: int | None = None,
) -> Iterator[R]:
    """Results of `fn` over `items`, in order, streamed as they come (memory stays bounded).
    `meanwhile` runs in this process while the workers start on the items. A worker takes
    `chunk` items at a time (by default, a share that keeps both the overhead per item and
    the wait for the last worker small). `size` is how much work the items are, when each
    holds more than one piece of it (a batch of articles): small work runs in this process.

    Workers are forked, so they inherit what the parent already loaded (models, templates).
    """
    if jobs <= 1 or (len(items) if size is None else size) < MIN_PARALLEL:
        if initializer:
            initializer()
        if meanwhile:
            meanwhile()
        for done, item in enumerate(items, start=1):
            yield fn(item)
            if progress:
                progress(done)
        return
    if chunk is None:
        chunk = max(1, min(64, len(items) // (jobs * 8)))
    context = multiprocessing.get_context("fork")
    cancelled = context.Event()
    # The workers inherit the parent's objects (planned pages, articles) and run their
    # collector again: frozen, those objects are never traversed by it, and the pages that
    # hold them are never copied for the collector's writes (Python's advice for fork).
    gc.freeze()
    pool = context.Pool(jobs, initializer=_worker_setup, initargs=(fn, cancelled, initializer))
    try:
        yield from _stream(pool, cancelled, items, chunk, progress, meanwhile)
    finally:
        pool.close()
        pool.join()
        gc.unfreeze()


def _stream(
    pool: Any,
    cancelled: Event,
    items: Sequence[T],
    chunk: int,
    progress: Callable[[int], None] | None,
    meanwhile: Callable[[], None] | None,
) -> Iterator[Any]:
    try:
        results = pool.imap(_call, items, chunksize=chunk)
        if meanwhile:
            meanwhile()
        for done, result in enumerate(results, start=1):
            yield result
            if progress:
                progress(done)
    except BaseException:
        # Not Pool.terminate(): it can wait forever for a lock that an idle worker holds
        # (seen after a full disk). The tasks left are skipped instead, and the pool ends as
        # after a normal run.
        cancelled.set()
        raise


class Workers:
    """Worker processes forked when made, given their items later (`map`, once), then
    `close`d. Forked while this process holds little, they copy none of what it reads
    afterwards: each item is pickled to them instead. A worker forked from a large heap
    ends up with a private copy of most of it, as each of its allocations lands in a
    free slot of an inherited page and copies that page."""

    def __init__(self, fn: Callable[[Any], Any], jobs: int) -> None:
        context = multiprocessing.get_context("fork")
        self.jobs = jobs
        self.cancelled = context.Event()
        self.pool = context.Pool(
            jobs, initializer=_worker_setup, initargs=(fn, self.cancelled, None)
        )

    def map(
        self,
        items: Sequence[Any],
        *,
        progress: Callable[[int], None] | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> Iterator[Any]:
        """The results of the workers' function over `items`, in order, as they come, one
        item to a worker at a time."""
        return _stream(self.pool, self.cancelled, items, 1, progress, meanwhile)

    def close(self) -> None:
        self.pool.close()
        self.pool.join()
