"""What a build is asked to do (`Options`), what it works with (`Run`) and what it reports
(`BuildResult`): the command line prints the result, and the cache keeps the last one for the
next build to compare."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

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


def is_loopback(host: str) -> bool:
    """Whether a URL's host is this machine for whoever opens it: `localhost` and its
    subdomains (RFC 6761), 127.0.0.0/8 in any form a browser reads (`127.1`, `0x7f.1`),
    `::1`, an IPv4-mapped loopback, and the unspecified 0.0.0.0 and `::`."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:  # the shorthand and hex forms that inet_aton (and a browser) accept
            address = ipaddress.ip_address(socket.inet_aton(host))
        except (OSError, ValueError):
            return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def url_host(url: str) -> str:
    """The host of `url`, or "" when it has none it can be read from."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def local_base_note(base_url: str) -> str | None:
    """What a build says when its absolute URLs would lead each reader to their own machine."""
    if not is_loopback(url_host(base_url)):
        return None
    return (
        f"absolute URLs point to this machine (base_url: {base_url}): the feeds, sitemap.xml, "
        "robots.txt and the pages' canonical links would not lead readers to the site. Set "
        "base_url in newsgen.yaml to the site's public address (or build with --base-url URL) "
        "before publishing."
    )
