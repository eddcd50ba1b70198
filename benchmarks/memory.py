"""What a command's whole process tree costs the machine in memory, sampled while it runs.

A build that forks workers uses the memory of all of them: the figure is the peak of the
summed PSS (proportional set size: a page shared by k processes counts 1/k in each) over the
tree, read from /proc/PID/smaps_rollup every `interval` seconds (less often when reading
takes long: see `Sampler._run`). Beside it: the summed RSS at that moment (the gap is what
copy-on-write sharing saves) and the largest process's RSS at its own peak (what
`/usr/bin/time -v` reports).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

INTERVAL = 0.05


@dataclass(frozen=True, slots=True)
class Memory:
    """Peaks in MB: summed PSS, summed RSS when the PSS peaked, the largest process's RSS,
    and how many processes the tree held at most; `samples` taken."""

    pss: float = 0.0
    rss: float = 0.0
    largest: float = 0.0
    processes: int = 0
    samples: int = 0
    each: tuple[Process, ...] = ()

    def described(self) -> str:
        """Each process at the peak: what it holds of its own and what it shares."""
        return "; ".join(p.described() for p in self.each)


@dataclass(frozen=True, slots=True)
class Process:
    """One process at the moment the tree's PSS peaked, in MB: its PSS, its RSS, the pages
    only it maps (private), and its PSS in anonymous memory (the Python heap, inherited or
    its own) and in files (code, the mapped cache)."""

    pid: int
    name: str
    pss: float
    rss: float
    private: float
    anon: float
    file: float

    def described(self) -> str:
        return (
            f"{self.name} {self.pid}: PSS {self.pss:.0f} (anon {self.anon:.0f}, file "
            f"{self.file:.0f}), RSS {self.rss:.0f}, private {self.private:.0f}"
        )


def _parents() -> dict[int, int]:
    """The parent of every process now running (no /proc/PID/task/*/children here)."""
    parents = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                # The name in brackets may hold spaces and brackets: the fields follow the last ")".
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(name)] = int(fields[1])
    return parents


def tree(root: int) -> list[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


FIELDS = (b"Pss:", b"Rss:", b"Private_Clean:", b"Private_Dirty:", b"Pss_Anon:", b"Pss_File:")


def smaps(pid: int) -> dict[bytes, int]:
    """The fields of /proc/PID/smaps_rollup that count, in kB; {} once it has ended."""
    found = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup_file:
            for line in rollup_file:
                name = line.split(maxsplit=1)[0]
                if name in FIELDS:
                    found[name] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return {}
    return found


def rollup(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in kB; (0, 0) once it has ended."""
    found = smaps(pid)
    return found.get(b"Pss:", 0), found.get(b"Rss:", 0)


def _process(pid: int, fields: dict[bytes, int], parent: bool) -> Process:
    return Process(
        pid=pid,
        name="parent" if parent else "worker",
        pss=fields.get(b"Pss:", 0) / 1024,
        rss=fields.get(b"Rss:", 0) / 1024,
        private=(fields.get(b"Private_Clean:", 0) + fields.get(b"Private_Dirty:", 0)) / 1024,
        anon=fields.get(b"Pss_Anon:", 0) / 1024,
        file=fields.get(b"Pss_File:", 0) / 1024,
    )


class Sampler:
    """Samples the tree below `root` (not `root` itself: /usr/bin/time) until stopped."""

    def __init__(self, root: int, interval: float = INTERVAL) -> None:
        self.root, self.interval = root, interval
        self.peak = Memory()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            self.sample()
            took = time.perf_counter() - started
            # The kernel walks a process's page tables to sum its smaps: 0.4 s for a 3.4 GB
            # process on a loaded machine. Waiting 4 times as long as a sample took keeps
            # the sampler under a fifth of a core, at the cost of a coarser peak then.
            self._stop.wait(max(self.interval, 4 * took))

    def sample(self) -> None:
        below = tree(self.root)
        pids = [pid for pid in below if pid != self.root]
        found = [smaps(pid) for pid in pids]
        pss = sum(f.get(b"Pss:", 0) for f in found) / 1024
        rss = sum(f.get(b"Rss:", 0) for f in found) / 1024
        largest = max((f.get(b"Rss:", 0) for f in found), default=0) / 1024
        peak = self.peak
        top = pss > peak.pss
        self.peak = Memory(
            pss=max(peak.pss, pss),
            rss=rss if top else peak.rss,
            largest=max(peak.largest, largest),
            processes=max(peak.processes, sum(1 for f in found if f)),
            samples=peak.samples + 1,
            each=self._each(pids, found) if top else peak.each,
        )

    @staticmethod
    def _each(pids: list[int], found: list[dict[bytes, int]]) -> tuple[Process, ...]:
        pairs = zip(pids, found, strict=True)
        return tuple(_process(pid, f, parent=pid == pids[0]) for pid, f in pairs if f)
