"""Work on all cores: an ordered map over worker processes, or in-process for small jobs."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from array import array
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
        self.closed = False

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
        """End the workers once their tasks are done (again: nothing)."""
        if not self.closed:
            self.pool.close()
            self.pool.join()
            self.closed = True


# Below this many files, forking a process to stat half of them costs more than it saves.
MIN_FORKED_STAT = 20_000
# Packed per file: mode, size, mtime, owner and inode number (see `packed_statuses`).
STATUS_FIELDS = 5
_MISSING = (-1, 0, 0, 0, 0)


def packed_statuses(paths: Sequence[str], jobs: int) -> bytes:
    """The status of each path through a link (mode, size, mtime in ns, owner; mode -1 when
    it has none) and its inode number, packed as an array of int64, the second half stat'ed
    by a forked process when there are many on more than one core: an unchanged site's
    rebuild is mostly stat calls (0.45 s of 1 s for 100,000 files, 0.25 s on two processes;
    threads made it slower, taking the GIL back after each call). Packed, the statuses of a
    whole folder are hashed at once (see newsgen.collect.Listing)."""
    if jobs <= 1 or len(paths) < MIN_FORKED_STAT:
        return _packed(paths)
    half = len(paths) // 2
    mine, theirs = paths[:half], paths[half:]
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return _packed(paths)
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return _packed(paths)
    if pid == 0:  # the child: stat, write, and leave without running the parent's exit code
        code = 1
        try:
            os.close(read_end)
            with open(write_end, "wb") as out:
                out.write(_packed(theirs))
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    stream = open(read_end, "rb")  # noqa: SIM115 (closed before the wait, which it ends)
    try:
        found = _packed(mine)
        data = stream.read()
    finally:
        stream.close()  # a child still writing gets a broken pipe, and exits
        _, exit_status = os.waitpid(pid, 0)
    if exit_status != 0 or len(data) != 8 * STATUS_FIELDS * len(theirs):
        return found + _packed(theirs)
    return found + data


def _status(path: str) -> tuple[int, int, int, int, int]:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return _MISSING
    # The inode number is unsigned: its top bit is dropped to fit the signed array.
    return st.st_mode, st.st_size, st.st_mtime_ns, st.st_uid, st.st_ino & _INO_BITS


_INO_BITS = (1 << 63) - 1


def _packed(paths: Sequence[str]) -> bytes:
    values = array("q")
    for path in paths:
        values.extend(_status(path))
    return values.tobytes()


def newest_mtime(data: bytes) -> int:
    """The latest modification time in statuses `packed_statuses` packed (0 for none)."""
    return max(array("q", data)[2::STATUS_FIELDS], default=0)
