"""Work on all cores: an ordered map over worker processes, or in-process for small jobs."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many items, starting workers costs more than it saves.
MIN_PARALLEL = 64


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _worker_setup(initializer: Callable[[], None] | None) -> None:
    # Ctrl-C reaches the whole process group: the parent stops the pool; workers printing
    # their own KeyboardInterrupt tracebacks would only bury its message.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The parent pauses the cycle collector while it builds; workers render templates, whose
    # objects do form cycles, so theirs runs.
    gc.enable()
    if initializer:
        initializer()


def run(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    jobs: int,
    progress: Callable[[int], None] | None = None,
    initializer: Callable[[], None] | None = None,
) -> Iterator[R]:
    """Results of `fn` over `items`, in order, streamed as they come (memory stays bounded).

    Workers are forked, so they inherit what the parent already loaded (models, templates).
    """
    if jobs <= 1 or len(items) < MIN_PARALLEL:
        if initializer:
            initializer()
        for done, item in enumerate(items, start=1):
            yield fn(item)
            if progress:
                progress(done)
        return
    chunk = max(1, min(64, len(items) // (jobs * 8)))
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=_worker_setup, initargs=(initializer,)) as pool:
        for done, result in enumerate(pool.imap(fn, items, chunksize=chunk), start=1):
            yield result
            if progress:
                progress(done)
