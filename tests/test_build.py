"""The whole pipeline on the sample site and on the demo site."""

from __future__ import annotations

import shutil
from pathlib import Path

from newsgen.build import BuildResult
from newsgen.config import Config
from tests.conftest import REPO, build_site


def test_sample_site_builds_every_article(sample_site: tuple[Config, BuildResult]) -> None:
    config, result = sample_site
    pages = sorted((config.output_dir / "articles").glob("*/index.html"))
    assert result.articles == len(pages) == 11
    assert result.problems == ()


def test_demo_site_builds_271_article_pages(tmp_path: Path) -> None:
    site = tmp_path / "demo"
    for folder in ("seeds", "articles", "templates"):
        shutil.copytree(REPO / folder, site / folder)
    config, result = build_site(site)
    assert result.articles == 271
    assert len(list((config.output_dir / "articles").glob("*/index.html"))) == 271
    assert result.problems == ()
