"""collect: which source files a build reads again. A file changed within the clock's
resolution of its read can keep its size and mtime ("racily clean", as git calls it): its
row is recorded without a size, so that the next build reads it again. The window is
measured from the moment the file was read, on a clock the tests control."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsgen import collect
from newsgen.build import build
from newsgen.cache import Cache
from newsgen.collect import RACY_NS
from newsgen.config import load_config
from tests.conftest import SAMPLE, build_site
from tests.util import clean_build, snapshot

SEED = "seeds/000_4c3b1bedbc3a3e95.txt"
WRITTEN = 1_700_000_000 * 10**9  # the seed's mtime in every test
SECOND = 10**9


def busy_clock(first: int) -> Iterator[int]:
    """A machine so busy that a minute passes between any two readings of the clock."""
    yield first
    later = first
    while True:
        later += 60 * SECOND
        yield later


def use_clock(monkeypatch: pytest.MonkeyPatch, first: int) -> None:
    ticks = busy_clock(first)
    monkeypatch.setattr(collect, "time_ns", lambda: next(ticks))


def new_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    touch(site / SEED, WRITTEN)
    return site


def touch(path: Path, mtime_ns: int) -> None:
    os.utime(path, ns=(mtime_ns, mtime_ns))


def recorded_size(site: Path, path: str = SEED) -> int:
    cache = Cache(site / ".newsgen" / "cache.sqlite")
    try:
        return cache.file_hashes()[path][1]
    finally:
        cache.close()


def edit_keeping_size_and_mtime(site: Path) -> None:
    seed = site / SEED
    text = seed.read_text("utf-8")
    assert "Il governo" in text
    seed.write_text(text.replace("Il governo", "Il Governo"), "utf-8")
    touch(seed, WRITTEN)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_seed_read_just_after_it_was_written_is_read_again_however_long_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """A cold build reads a seed in its worker and records the row only after every article
    is enriched, a minute later on this clock: the window counts from the read."""
    site = new_site(tmp_path)
    use_clock(monkeypatch, WRITTEN + SECOND // 2)
    config = load_config(site, {})
    build(config, jobs=jobs)
    assert recorded_size(site) == -1
    edit_keeping_size_and_mtime(site)
    use_clock(monkeypatch, WRITTEN + 3600 * SECOND)
    _, result = build_site(site)
    assert result.enriched == 1
    assert snapshot(config.output_dir) == clean_build(site, tmp_path)


def test_a_seed_read_long_after_it_was_written_is_trusted_by_size_and_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = new_site(tmp_path)
    use_clock(monkeypatch, WRITTEN + RACY_NS + 1)
    build_site(site)
    assert recorded_size(site) == (site / SEED).stat().st_size
    edit_keeping_size_and_mtime(site)
    _, result = build_site(site)
    assert result.enriched == 0  # what the row is for: an unchanged stat is not read


def test_the_window_ends_exactly_racy_ns_before_the_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = new_site(tmp_path)
    use_clock(monkeypatch, WRITTEN + RACY_NS)
    build_site(site)
    assert recorded_size(site) == -1


def test_a_seed_edited_between_builds_is_hashed_by_the_scan_with_the_same_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A known seed whose stat changed is read by the scan itself, before enrichment."""
    site = new_site(tmp_path)
    use_clock(monkeypatch, WRITTEN + 3600 * SECOND)
    build_site(site)
    seed = site / SEED
    seed.write_text(seed.read_text("utf-8") + "\nUna riga in più.\n", "utf-8")
    touch(seed, WRITTEN + 7200 * SECOND)
    use_clock(monkeypatch, WRITTEN + 7200 * SECOND + SECOND // 2)
    build_site(site)
    assert recorded_size(site) == -1
    edit_keeping_size_and_mtime(site)
    touch(seed, WRITTEN + 7200 * SECOND)
    use_clock(monkeypatch, WRITTEN + 9000 * SECOND)
    _, result = build_site(site)
    assert result.enriched == 1
