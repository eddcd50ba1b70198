"""The worker pool: ordered results, and an error or an early stop that ends it at once."""

from __future__ import annotations

import multiprocessing
import os
import time
from array import array
from collections.abc import Generator, Sequence
from pathlib import Path

import pytest

from newsgen import parallel
from newsgen.parallel import MIN_PARALLEL, Workers, run


def square(n: int) -> int:
    return n * n


class FailAtFive:
    """Counts its calls in memory shared with the forked workers; fails on 5."""

    def __init__(self) -> None:
        self.calls = multiprocessing.get_context("fork").Value("i", 0)

    def __call__(self, n: int) -> int:
        with self.calls.get_lock():
            self.calls.value += 1
        if n == 5:
            raise ValueError("five")
        time.sleep(0.001)  # work to skip: without it, two workers could finish it all
        return n


def test_results_come_in_order() -> None:
    items = range(MIN_PARALLEL * 4)
    assert list(run(square, items, jobs=2)) == [n * n for n in items]


def test_an_error_in_a_worker_is_raised_and_the_rest_is_skipped() -> None:
    fail_at_five = FailAtFive()
    with pytest.raises(ValueError, match="five"):
        list(run(fail_at_five, range(20_000), jobs=2))
    # Without skipping, every one of the 20,000 tasks would run (10 s of work on two workers).
    assert fail_at_five.calls.value < 10_000
    assert multiprocessing.active_children() == []


def test_stopping_early_ends_the_pool() -> None:
    fail_at_five = FailAtFive()
    results = run(fail_at_five, range(6, 20_000), jobs=2)
    assert isinstance(results, Generator)
    assert next(results) == 6
    results.close()
    assert fail_at_five.calls.value < 10_000
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_meanwhile_runs_once_in_this_process_before_the_results(jobs: int) -> None:
    calls: list[int] = []
    results = run(
        square, range(MIN_PARALLEL * 2), jobs=jobs, meanwhile=lambda: calls.append(os.getpid())
    )
    first = next(results)
    assert calls == [os.getpid()]
    assert [first, *results] == [n * n for n in range(MIN_PARALLEL * 2)]
    assert calls == [os.getpid()]


def pid(_: object) -> int:
    return os.getpid()


@pytest.mark.parametrize(("size", "in_workers"), [(MIN_PARALLEL, True), (MIN_PARALLEL - 1, False)])
def test_batches_run_in_workers_by_the_work_they_hold(size: int, in_workers: bool) -> None:
    """Four batches of articles: where they run depends on how many articles, not batches."""
    pids = set(run(pid, range(4), jobs=2, chunk=1, size=size))
    assert (os.getpid() not in pids) is in_workers


MADE_LATER: list[int] = []


def made_later(n: int) -> tuple[int, int]:
    return n * n, len(MADE_LATER)


def test_workers_forked_early_see_only_their_items() -> None:
    """What this process makes after the fork reaches the workers only as their items."""
    workers = Workers(made_later, jobs=2)
    processes = list(workers.pool._pool)  # type: ignore[attr-defined]
    try:
        MADE_LATER.extend(range(1000))
        assert list(workers.map(range(100))) == [(n * n, 0) for n in range(100)]
    finally:
        workers.close()
        MADE_LATER.clear()
    assert len(processes) == 2 and not any(p.is_alive() for p in processes)


def _odd_files(folder: Path) -> list[str]:
    """Paths of a file, a folder, a named pipe, a broken link, a link, and one not there."""
    (folder / "a.txt").write_text("a", encoding="utf-8")
    (folder / "sub").mkdir()
    os.mkfifo(folder / "pipe")
    (folder / "broken").symlink_to(folder / "nowhere")
    (folder / "link").symlink_to(folder / "a.txt")
    names = ["a.txt", "sub", "pipe", "broken", "link", "gone"]
    return [str(folder / name) for name in names * 5]


def _statuses(paths: Sequence[str], jobs: int) -> list[tuple[int, ...] | None]:
    """What `packed_statuses` packed, a tuple per path (None: it had no status)."""
    values = array("q", parallel.packed_statuses(paths, jobs))
    n = parallel.STATUS_FIELDS
    rows = [tuple(values[i : i + n]) for i in range(0, len(values), n)]
    return [None if row[0] < 0 else row for row in rows]


def test_statuses_from_a_forked_process_are_those_stat_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _odd_files(tmp_path)
    here = _statuses(paths, jobs=1)
    monkeypatch.setattr(parallel, "MIN_FORKED_STAT", 0)
    assert _statuses(paths, jobs=2) == here
    st = os.stat(paths[0])
    assert here[0] == (st.st_mode, st.st_size, st.st_mtime_ns, st.st_uid, st.st_ino)
    assert here[3] is None and here[5] is None  # the broken link, the missing file
    assert here[4] == here[0]  # through the link


def test_statuses_are_taken_here_when_no_process_can_be_forked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _odd_files(tmp_path)
    monkeypatch.setattr(parallel, "MIN_FORKED_STAT", 0)

    def refuse() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    assert _statuses(paths, jobs=2) == _statuses(paths, jobs=1)


def test_statuses_are_taken_here_when_the_forked_process_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _odd_files(tmp_path)
    here = _statuses(paths, jobs=1)
    monkeypatch.setattr(parallel, "MIN_FORKED_STAT", 0)

    parent, packed = os.getpid(), parallel._packed

    def fail(paths: Sequence[str]) -> bytes:
        if os.getpid() != parent:  # in the child, which inherits it
            raise MemoryError
        return packed(paths)

    monkeypatch.setattr(parallel, "_packed", fail)
    assert _statuses(paths, jobs=2) == here
