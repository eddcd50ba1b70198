"""What a command's whole process tree costs the machine in memory, sampled while it runs.

A build that forks workers uses the memory of all of them: the figure is the peak of the
summed PSS (proportional set size: a page shared by k processes counts 1/k in each) over the
tree, read from /proc/PID/smaps_rollup every `interval` seconds. Beside it: the summed RSS at
that moment (the gap is what copy-on-write sharing saves) and the largest process's RSS at
its own peak (what `/usr/bin/time -v` reports).
"""

from __future__ import annotations

import os
import threading
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


def rollup(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in kB; (0, 0) once it has ended."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as smaps:
            for line in smaps:
                if line.startswith(b"Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith(b"Rss:"):
                    rss = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0, 0
    return pss, rss


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
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        pids = [pid for pid in tree(self.root) if pid != self.root]
        sizes = [rollup(pid) for pid in pids]
        pss = sum(s[0] for s in sizes) / 1024
        rss = sum(s[1] for s in sizes) / 1024
        largest = max((s[1] for s in sizes), default=0) / 1024
        peak = self.peak
        self.peak = Memory(
            pss=max(peak.pss, pss),
            rss=rss if pss > peak.pss else peak.rss,
            largest=max(peak.largest, largest),
            processes=max(peak.processes, sum(1 for s in sizes if s[1])),
            samples=peak.samples + 1,
        )
