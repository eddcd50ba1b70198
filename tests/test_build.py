"""The whole pipeline on the sample site and on the demo site."""

from __future__ import annotations

import shutil
from pathlib import Path

from newsgen.build import BuildResult
from newsgen.config import Config
from newsgen.plan import Page
from newsgen.publish import RENDER_SPAN, render_order
from tests.conftest import MakeSite, build_site, copy_demo_site
from tests.test_plan import article
from tests.util import snapshot


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
