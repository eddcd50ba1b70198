"""delta: a rebuild that keeps the last plan must give what a full build gives, and must
fall back to a full build whenever an edit can move an article in the site."""

from __future__ import annotations

import datetime as dt
import marshal
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import fields, replace
from pathlib import Path

import pytest

from newsgen.build import BuildResult, build
from newsgen.cache import Cache
from newsgen.config import load_config
from newsgen.delta import PLANNED_FIELDS, pack_page, shape, sort_problems, unpack_page
from newsgen.plan import Page, Settings, article_page, plan_site
from newsgen.records import Article, Image, Problem
from tests.conftest import SAMPLE, build_site
from tests.test_incremental import edit_body, retitle
from tests.test_plan import article
from tests.util import clean_build, site_cache, snapshot

CURATED = "articles/sars-cov-2-one-million.md"


def sample(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    build_site(site)
    return site


def site_plan() -> list[Page]:
    articles = [
        article(1, "2020-04-05", dateline="Roma", tags=("a",)),
        article(2, "2020-04-05", dateline="Paris", tags=("a", "b")),
        article(3, "2019-12-31", dateline="Roma"),
        article(4),
    ]
    return plan_site(articles, Settings(per_page=2, feed_size=2))


def test_a_packed_page_unpacks_to_the_same_page() -> None:
    pages = site_plan()
    articles = {a.path: a for p in pages for a in (p.article, *p.articles) if a is not None}
    assert [unpack_page(_loads(pack_page(p)), articles) for p in pages] == pages


def _loads(blob: bytes) -> tuple[object, ...]:
    value = marshal.loads(blob)
    assert isinstance(value, tuple)
    return value


def test_an_article_page_is_made_again_from_its_neighbours() -> None:
    """A rebuild does not store article pages: it makes them again with `article_page`."""
    pages = [p for p in site_plan() if p.kind == "article"]
    # Newest first; "prev" is the older neighbour, as a reader walks back in time.
    assert [(p.url, p.prev and p.prev.path, p.next and p.next.path) for p in pages] == [
        ("/articles/a1/", "seeds/002.txt", None),
        ("/articles/a2/", "seeds/003.txt", "seeds/001.txt"),
        ("/articles/a3/", "seeds/004.txt", "seeds/002.txt"),
        ("/articles/a4/", None, "seeds/003.txt"),
    ]
    for page in pages:
        assert page.article is not None
        again = article_page(page.article, prev=page.prev, next=page.next, related=page.related)
        assert again == page


def test_page_packing_covers_every_field_of_a_page() -> None:
    """A field left out of the packed page would come back as its default."""
    page = next(p for p in site_plan() if p.kind == "index")
    assert len(_loads(pack_page(page))) == len(fields(Page))


def test_the_plan_reads_no_article_field_outside_the_planned_ones() -> None:
    """Changing every other field of every article leaves every page where it was."""
    before = [pack_page(p) for p in site_plan()]
    other = {f.name for f in fields(Article)} - set(PLANNED_FIELDS) - {"order"}
    # The sketch reaches the registry only with a new URL or file, which no rebuild makes.
    assert other == {"related", "image", "body_key", "sketch", "lead"}
    changed = [
        replace(
            a,
            related=(Image(url="/x.jpg", caption="x"),),
            image="/x.jpg",
            body_key="other",
            sketch="other",
            lead=Image(url="/y.jpg", caption="y"),
        )
        for a in _articles()
    ]
    after = [pack_page(p) for p in plan_site(changed, Settings(per_page=2, feed_size=2))]
    assert after == before


def _articles() -> list[Article]:
    pages = site_plan()
    found = {a.path: a for p in pages for a in (p.article, *p.articles) if a is not None}
    return sorted(found.values(), key=lambda a: a.order)


def test_problems_are_sorted_by_file_line_and_message() -> None:
    problems = [
        Problem(path="seeds/b.txt", message="z"),
        Problem(path="seeds/a.txt", line=3, message="y"),
        Problem(path="seeds/a.txt", message="x"),
    ]
    assert [(p.path, p.message) for p in sort_problems(problems)] == [
        ("seeds/a.txt", "x"),
        ("seeds/a.txt", "y"),
        ("seeds/b.txt", "z"),
    ]


def test_a_body_edit_keeps_the_plan_and_equals_a_clean_build(tmp_path: Path) -> None:
    site = sample(tmp_path)
    edit_body(site)
    config, result = build_site(site)
    assert result.kept_plan
    assert result.enriched == 1
    assert snapshot(config.output_dir) == clean_build(site, tmp_path)


def test_a_new_summary_plans_the_site_again(tmp_path: Path) -> None:
    """Related articles are found by the words of summaries: a new one may change them."""
    site = sample(tmp_path)
    path = site / CURATED
    text = path.read_text("utf-8").replace("date: ", "summary: Un riassunto nuovo.\ndate: ")
    path.write_text(text, "utf-8")
    config, result = build_site(site)
    assert not result.kept_plan
    assert snapshot(config.output_dir) == clean_build(site, tmp_path)


def test_a_new_headline_plans_the_site_again(tmp_path: Path) -> None:
    site = sample(tmp_path)
    retitle(site)
    config, result = build_site(site)
    assert not result.kept_plan
    assert snapshot(config.output_dir) == clean_build(site, tmp_path)


def test_an_edit_that_makes_a_duplicate_plans_the_site_again(tmp_path: Path) -> None:
    site = sample(tmp_path)
    seeds = sorted((site / "seeds").glob("*.txt"))
    seeds[1].write_bytes(seeds[2].read_bytes())
    config, result = build_site(site)
    assert not result.kept_plan
    assert any("same text as" in p.message for p in result.problems)
    assert snapshot(config.output_dir) == clean_build(site, tmp_path / "one")
    # Undoing it brings the skipped article back: a full build again.
    shutil.copy(SAMPLE / "seeds" / seeds[1].name, seeds[1])
    config, result = build_site(site)
    assert not result.kept_plan
    assert snapshot(config.output_dir) == clean_build(site, tmp_path / "two")


def test_pages_deleted_from_the_output_come_back(tmp_path: Path) -> None:
    site = sample(tmp_path)
    config, _ = build_site(site)
    shutil.rmtree(config.output_dir / "places")
    for folder in sorted((config.output_dir / "articles").iterdir())[-2:]:
        shutil.rmtree(folder)
    edit_body(site)
    _, result = build_site(site)
    assert result.kept_plan
    assert snapshot(config.output_dir) == clean_build(site, tmp_path)


def test_problems_after_a_kept_plan_equal_a_full_builds(tmp_path: Path) -> None:
    """Re-saving a seed as Latin-1 keeps its text (and place) and adds a warning; saving it
    back as UTF-8 takes the warning away."""
    site = sample(tmp_path)
    seed = site / "seeds" / "000_4c3b1bedbc3a3e95.txt"
    text = seed.read_text("utf-8")
    seed.write_bytes(text.encode("cp1252"))
    result, full = _both(site, tmp_path / "one")
    assert [p.message[:18] for p in result.problems] == ["not UTF-8; read as"]
    assert result.kept_plan and result.problems == full.problems
    seed.write_text(text, "utf-8")
    result, full = _both(site, tmp_path / "two")
    assert result.kept_plan and result.problems == full.problems == ()


def _both(site: Path, fresh: Path) -> tuple[BuildResult, BuildResult]:
    """The rebuild of `site`, and a full build of a copy of it."""
    _, result = build_site(site)
    shutil.copytree(site, fresh, ignore=shutil.ignore_patterns("build", ".newsgen"))
    _, full = build_site(fresh)
    assert not full.kept_plan
    return result, full


def test_a_date_change_is_seen_by_the_shape() -> None:
    a = article(1, "2020-04-05")
    assert shape(a) != shape(replace(a, date=dt.date(2020, 4, 6)))
    assert shape(a) != shape(replace(a, summary="other"))
    assert shape(a) == shape(replace(a, image="/x.jpg", body_key="x"))


def test_a_deleted_output_folder_comes_back_whole(tmp_path: Path) -> None:
    site = sample(tmp_path)
    config, _ = build_site(site)
    shutil.rmtree(config.output_dir)
    edit_body(site)
    _, result = build_site(site)
    assert result.written > 40
    assert snapshot(config.output_dir) == clean_build(site, tmp_path)


def test_only_an_article_page_shows_an_article_and_its_neighbours() -> None:
    """The recorded plan lists, for each article, the listing pages that show it (through
    `articles`); article pages are made again from their neighbours."""
    for page in site_plan():
        if page.kind != "article":
            assert (page.article, page.prev, page.next) == (None, None, None)


def test_an_edit_read_before_a_fall_back_counts_once(tmp_path: Path) -> None:
    site = sample(tmp_path)
    path = site / CURATED
    path.write_text(path.read_text("utf-8").replace("2020-04-05", "2020-04-06"), "utf-8")
    _, result = build_site(site)
    assert not result.kept_plan
    assert result.enriched == 1


def test_a_same_size_edit_with_the_old_mtime_is_seen(tmp_path: Path) -> None:
    """A file written twice within the clock's resolution can keep its size and mtime; one
    recorded that recently is read again by the next build (git's "racily clean" files)."""
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    seed = site / "seeds" / "000_4c3b1bedbc3a3e95.txt"
    os.utime(seed)  # written just now
    config, _ = build_site(site)
    before = seed.stat()
    text = seed.read_text("utf-8")
    assert "Il governo" in text
    seed.write_text(text.replace("Il governo", "Il Governo"), "utf-8")
    os.utime(seed, ns=(before.st_atime_ns, before.st_mtime_ns))
    _, result = build_site(site)
    assert result.enriched == 1
    assert snapshot(config.output_dir) == clean_build(site, tmp_path)


def test_a_rebuild_compares_only_the_files_touched_since_the_plan(tmp_path: Path) -> None:
    """The sources a plan was made from are a table: a rebuild looks up the files whose row
    the scan changed since then, not every file of the archive."""
    site = sample(tmp_path)
    with site_cache(site) as cache:
        assert cache.touched() == []
    edit_body(site)
    seed = "seeds/000_4c3b1bedbc3a3e95.txt"
    looked_up: list[list[str]] = []
    remembered = Cache.remembered_sources

    def counted(cache: Cache, paths: Iterable[str]) -> dict[str, str]:
        looked_up.append(sorted(paths))
        return remembered(cache, paths)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Cache, "remembered_sources", counted)
        config, result = build_site(site)
    assert result.kept_plan and looked_up == [[seed]]
    with site_cache(site) as cache:
        assert cache.touched() == []
    assert snapshot(config.output_dir) == clean_build(site, tmp_path)


def test_an_edit_read_by_a_build_that_did_not_finish_is_seen_by_the_next(
    tmp_path: Path,
) -> None:
    """A build held back (`--strict` with problems) has recorded the edited file's new hash
    but not a plan from it: the file stays touched until a build remembers its sources."""
    site = sample(tmp_path)
    edit_body(site)
    # Written a minute ago: no build reads it again for having been written just before it.
    minute_ago = time.time() - 60
    os.utime(site / "seeds" / "000_4c3b1bedbc3a3e95.txt", (minute_ago, minute_ago))
    config = load_config(site, {})
    held = build(config, jobs=1, hold=lambda problems: True)
    assert held.written == 0
    with site_cache(site) as cache:
        assert cache.touched() == ["seeds/000_4c3b1bedbc3a3e95.txt"]
    seeds = sorted((site / "seeds").glob("*.txt"))
    other = next(p for p in seeds if p.name != "000_4c3b1bedbc3a3e95.txt")
    lines = other.read_text("utf-8").split("\n")
    lines[2] += " Un'altra frase."
    other.write_text("\n".join(lines), "utf-8")
    _, result = build_site(site)
    assert result.kept_plan and result.written > 0
    assert snapshot(config.output_dir) == clean_build(site, tmp_path)
