"""The whole pipeline on the sample site and on the demo site."""

from __future__ import annotations

import gc
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

from newsgen import build as build_module
from newsgen import collect, delta, parallel, plan, publish, write
from newsgen.build import BuildResult, build
from newsgen.config import Config, load_config
from newsgen.plan import Page, Settings
from newsgen.publish import ALONE_URLS, LISTING_SPAN, RENDER_SPAN, render_order
from newsgen.records import Article
from tests.conftest import MakeSite, build_site, copy_demo_site
from tests.test_plan import article
from tests.util import age_sources, snapshot


def test_sample_site_builds_every_article(sample_site: tuple[Config, BuildResult]) -> None:
    config, result = sample_site
    pages = sorted((config.output_dir / "articles").glob("*/index.html"))
    assert result.articles == len(pages) == 11
    assert result.problems == ()


def test_demo_site_builds_271_article_pages(tmp_path: Path) -> None:
    site = copy_demo_site(tmp_path / "demo")
    config, result = build_site(site)
    assert result.articles == 271
    pages = [
        p.read_text(encoding="utf-8") for p in (config.output_dir / "articles").glob("*/index.html")
    ]
    # urls.yaml remembers earlier slugs of the demo articles: those URLs are redirect pages.
    assert sum('http-equiv="refresh"' not in page for page in pages) == 271
    assert result.problems == ()


def test_a_rebuild_restores_deleted_pages(make_site: MakeSite) -> None:
    site = make_site({"seeds/a.txt": "Roma – Un testo.\n", "seeds/b.txt": "Parigi – Altro.\n"})
    config, _ = build_site(site)
    output = config.output_dir
    before = snapshot(output)
    page = next((output / "articles").iterdir())
    shutil.rmtree(page)
    (output / "feed.xml").unlink()
    _, result = build_site(site)
    assert result.written == 2
    assert snapshot(output) == before


def test_one_worker_takes_every_page_that_lists_articles_the_others_article_pages() -> None:
    """So each article's teaser is drawn once, by the worker that draws the listings."""
    shown = (article(1, "2020-01-01"),)
    pages = [
        Page(url=f"/{n}/", template="list.html", articles=shown)
        if n % 3 == 0
        else Page(url=f"/{n}/", template="article.html", article=shown[0])
        for n in range(300)
    ]
    ordered, spans = render_order(pages)
    listing = [p for p in pages if p.articles]
    assert ordered == listing + [p for p in pages if not p.articles]
    assert spans[0] == (0, len(listing))
    assert [end - start for start, end in spans[1:]] == [RENDER_SPAN] * 3 + [8]
    assert [n for start, end in spans for n in range(start, end)] == list(range(300))


def test_a_page_that_lists_thousands_of_urls_is_a_span_of_its_own() -> None:
    """A sitemap's part lists up to 50,000: the worker that drew all 24 parts of a million
    articles' sitemap in one span grew 180 MB bigger than the other."""
    shown = (article(1, "2020-01-01"),)
    big = tuple(f"/articles/{n}/" for n in range(ALONE_URLS + 1))
    pages = [
        Page(url=f"/sitemap-{n}.xml", template="sitemap.xml", urls=big)
        if n in (70, 71, 299)
        else Page(url=f"/{n}/", template="article.html", article=shown[0])
        for n in range(300)
    ]
    ordered, spans = render_order(pages, packed=True)
    assert ordered == pages
    assert spans == [
        (0, 64),
        (64, 70),
        (70, 71),
        (71, 72),
        (72, 136),
        (136, 200),
        (200, 264),
        (264, 299),
        (299, 300),
    ]


def test_pages_sent_pickled_come_in_listing_spans_by_their_newest_article() -> None:
    """So no worker draws every teaser (and keeps it): a span holds the listings that show
    the same, recent, articles."""
    shown = [article(n, f"2020-01-{n % 28 + 1:02d}") for n in range(40)]
    listings = [
        Page(url=f"/l{n}/", template="list.html", articles=(shown[n % 40], shown[(n * 7) % 40]))
        for n in range(LISTING_SPAN + 44)
    ]
    pages = [*listings, Page(url="/a/", template="article.html", article=shown[0])]
    ordered, spans = render_order(pages, packed=True)
    newest = [max(a.order for a in p.articles) for p in ordered[: len(listings)]]
    assert newest == sorted(newest)
    assert sorted(p.url for p in ordered[: len(listings)]) == sorted(p.url for p in listings)
    assert spans == [(0, LISTING_SPAN), (LISTING_SPAN, len(listings)), (len(listings), len(pages))]


def test_render_workers_forked_before_the_plan_write_what_one_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked = []
    made = publish.render_workers

    def counted(*args: object) -> publish.RenderWorkers | None:
        workers = made(*args)  # type: ignore[arg-type]
        forked.append(workers)
        return workers

    monkeypatch.setattr(publish, "render_workers", counted)
    monkeypatch.setattr(publish, "LISTING_SPAN", 7)  # many listing spans, a teaser in several
    outputs = []
    for jobs in (1, 2):
        site = copy_demo_site(tmp_path / f"demo{jobs}")
        config = load_config(site, {"output": str(tmp_path / "out")})
        shutil.rmtree(tmp_path / "out", ignore_errors=True)
        build(config, jobs=jobs)
        outputs.append(snapshot(tmp_path / "out"))
    assert forked[0] is None and forked[1] is not None
    assert outputs[0] == outputs[1]


def test_the_plan_is_stored_before_the_render_and_the_scan_is_not_held_through_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored after the render, the plan kept what only it needs alive through it: the
    sources scanned, with their hashes (two scans of them), and the unit of each article. At
    100,000 articles the parent held 297 MB of Python objects when the render began, 234 MB
    without them."""
    events: list[str] = []
    store, write_site = delta.store, publish.write_site

    def stored(*args: object) -> delta.Memo:
        events.append("store")
        return store(*args)  # type: ignore[arg-type]

    def written(*args: object, **kwargs: object) -> publish.Written:
        gc.collect()
        scans = sum(isinstance(o, collect.Scan) for o in gc.get_objects())
        events.append(f"write with {scans} scans alive")
        return write_site(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(delta, "store", stored)
    monkeypatch.setattr(publish, "write_site", written)
    site = copy_demo_site(tmp_path / "demo")
    first = build(load_config(site, {}), jobs=2)
    assert events == ["store", "write with 0 scans alive"]
    (tmp_path / "demo" / "build").rename(tmp_path / "first")
    events.clear()
    assert build(load_config(site, {}), jobs=2).written == first.written
    assert events == ["store", "write with 0 scans alive"]
    assert snapshot(tmp_path / "demo" / "build") == snapshot(tmp_path / "first")


def test_a_cold_build_forks_its_render_workers_before_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked after it, a worker of a large site holds its own copy of the scan's pages
    (about 50 MB each at 100,000 articles). A rebuild forks only when it must build it all;
    an unchanged site is listed, not scanned."""
    events: list[str] = []
    made = publish.render_workers

    def forked(*args: object) -> publish.RenderWorkers | None:
        workers = made(*args)  # type: ignore[arg-type]
        events.append("fork" if workers is not None else "none")
        return workers

    def scan(*args: object, **kwargs: object) -> object:
        events.append("scan")
        return collect.scan(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(publish, "render_workers", forked)
    monkeypatch.setattr(build_module, "scan", scan)
    site = copy_demo_site(tmp_path / "demo")
    age_sources(site)
    config = load_config(site, {})
    build(config, jobs=2)
    assert events == ["fork", "scan"]
    events.clear()
    build(config, jobs=2)
    assert events == []  # nothing changed: no scan, no worker
    curated = next((site / "articles").glob("*.md"))
    text = curated.read_text("utf-8")
    curated.write_text(text.replace("title: ", "title: Nuovo: ", 1), "utf-8")
    build(config, jobs=2)
    assert events == ["scan", "fork"]  # a new headline: all planned again


def test_pages_written_in_place_are_not_sent_back_to_be_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold build writes its pages into the new output folder in place: nothing is left to
    rename, and the parent held a path for each of them (1.2 million at 1,000,000 articles)."""
    committed: list[write.Staged] = []
    commit = write.commit

    def counted(staged: Iterable[write.Staged]) -> None:
        staged = list(staged)
        committed.extend(staged)
        commit(staged)

    monkeypatch.setattr(write, "commit", counted)
    site = copy_demo_site(tmp_path / "demo")
    for jobs in (1, 2):
        shutil.rmtree(site / "build", ignore_errors=True)
        assert build(load_config(site, {}), jobs=jobs).written > 300
        assert committed and all(tmp != path for tmp, path in committed)
        committed.clear()


def test_a_first_build_forks_its_read_workers_before_the_scan_and_reads_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked at the read, each worker of a first build inherited the scan and the units and
    copied most of the pages they lie on (610 MB each at 1,000,000 articles); forked before
    the scan, they are sent their units. A build whose cache holds the articles forks none."""
    events: list[str] = []
    made, read_here = collect.read_workers, parallel.run

    def forked(*args: object, **kwargs: object) -> collect.Readers | None:
        readers = made(*args, **kwargs)  # type: ignore[arg-type]
        events.append("fork" if readers is not None else "none")
        return readers

    def scan(*args: object, **kwargs: object) -> object:
        events.append("scan")
        return collect.scan(*args, **kwargs)  # type: ignore[arg-type]

    def run(fn: object, *args: object, **kwargs: object) -> object:
        if getattr(fn, "__name__", "") == "batch":  # not the scan's hashing
            events.append("read here")
        return read_here(fn, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "read_workers", forked)
    monkeypatch.setattr(build_module, "scan", scan)
    monkeypatch.setattr(collect, "run", run)
    outputs = []
    for jobs in (1, 2):
        site = copy_demo_site(tmp_path / f"demo{jobs}")
        config = load_config(site, {"output": str(tmp_path / "out")})
        shutil.rmtree(tmp_path / "out", ignore_errors=True)
        assert build(config, jobs=jobs).enriched == 271
        outputs.append(snapshot(tmp_path / "out"))
    assert events == ["none", "scan", "read here", "fork", "scan"]
    assert outputs[0] == outputs[1]
    events.clear()
    again = build(load_config(site, {"output": str(tmp_path / "again")}), jobs=2)
    assert again.enriched == 0 and events == ["none", "scan"]
    assert snapshot(tmp_path / "again") == outputs[1]


def test_an_unchanged_site_whose_output_lost_a_page_is_scanned_and_mended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its listing is as the last scan found it, but the last build no longer holds."""
    site = copy_demo_site(tmp_path / "demo")
    age_sources(site)
    config = load_config(site, {})
    build(config, jobs=1)
    before = snapshot(config.output_dir)
    scans: list[object] = []

    def scan(*args: object, **kwargs: object) -> object:
        scans.append(args)
        return collect.scan(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "scan", scan)
    lost = config.output_dir / "index.html"
    lost.unlink()
    result = build(config, jobs=1)
    assert len(scans) == 1 and result.written >= 1
    assert snapshot(config.output_dir) == before
    again = build(config, jobs=1)
    assert len(scans) == 1 and again.written == 0  # listed only
    assert snapshot(config.output_dir) == before


def test_the_plan_holds_no_related_images_and_the_pages_show_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Related images (a fifth of an article's values) come to an article's page with its
    body, in the worker that renders it: the parent, which holds every article, has none,
    on a first build and on a rebuild that reads its articles from the cache."""
    planned: list[int] = []
    plan_site = plan.plan_site

    def counted(articles: list[Article], settings: Settings) -> list[Page]:
        planned.append(sum(1 for a in articles if a.related))
        return plan_site(articles, settings)

    monkeypatch.setattr(build_module, "plan_site", counted)
    site = copy_demo_site(tmp_path / "demo")
    config = load_config(site, {})
    build(config, jobs=2)
    seed = next(p for p in sorted((site / "seeds").glob("*.txt")) if "![" in p.read_text("utf-8"))
    (site / "seeds" / "extra.txt").write_text("Roma – Un testo nuovo.\n", "utf-8")
    build(config, jobs=2)
    assert planned == [0, 0]
    pages = list((site / "build" / "articles").glob("*/index.html"))
    galleries = sum('class="source-images"' in p.read_text("utf-8") for p in pages)
    with_images = sum("![" in p.read_text("utf-8") for p in (site / "seeds").glob("*.txt"))
    assert seed and galleries == with_images > 0
