"""What a build is asked to do (`Options`), what it works with (`Run`) and what it reports
(`BuildResult`): the command line prints the result, and the cache keeps the last one for the
next build to compare."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from newsgen import search, write
from newsgen.cache import Cache
from newsgen.config import Config
from newsgen.records import Problem

Progress = Callable[[str, int, int], None]
DRAFTS_NOTE = "drafts are included (--drafts): do not publish this build"


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """How to build (see `build`)."""

    jobs: int = 1
    progress: Progress | None = None
    drafts: bool = False
    hold: Callable[[Sequence[Problem]], bool] | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """One build's surroundings, passed as one: the site's configuration, its open cache,
    the output folder as the build found it, and how to build."""

    config: Config
    cache: Cache
    folder: write.Folder
    options: Options

    @property
    def output(self) -> Path:
        return self.config.output_dir

    @property
    def jobs(self) -> int:
        return self.options.jobs


# Why an input file gave no article, though nothing was wrong with it, in the summary's order.
SAME_TEXT = "same text as another file"
DRAFT = "draft"
WARNED = "as warned above"
SKIP_REASONS = (SAME_TEXT, DRAFT, WARNED)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """Every input file once: built into a published article, skipped (how many for each
    reason of SKIP_REASONS), or failed (an error in it, reported)."""

    files: int = 0
    built: int = 0
    skipped: tuple[tuple[str, int], ...] = ()
    failed: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    articles: int
    pages: int
    written: int
    removed: int
    enriched: int
    seconds: float
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    timings: tuple[tuple[str, float], ...] = ()
    search: search.IndexReport | None = None
    # True when only the pages that show changed articles were considered (newsgen.delta).
    kept_plan: bool = False
    tally: Tally = field(default_factory=Tally)

    @property
    def skipped(self) -> int:
        """Input files that gave no article, though nothing was wrong with them."""
        return sum(count for _, count in self.tally.skipped)


class Stopwatch:
    """Seconds spent in each stage, for `--verbose` and the benchmark."""

    def __init__(self) -> None:
        self.laps: list[tuple[str, float]] = []
        self.last = time.perf_counter()

    def lap(self, name: str = "") -> float:
        now = time.perf_counter()
        seconds, self.last = now - self.last, now
        if name:
            self.laps.append((name, seconds))
        return seconds
