"""CPU time of rendering alone: every planned page of a site rendered in one process, timed
per page kind. Bodies are read from the build cache beforehand, so only Jinja and the render
helpers are measured.

    python benchmarks/render_bench.py /tmp/wt-render-bench/10000 [--runs 3] [--profile]

The site is built once first when it has no build cache (`.newsgen/`).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from newsgen import render, urls
from newsgen.build import CACHE_DIR, build, settings
from newsgen.cache import BodyReader, Cache
from newsgen.collect import collect, scan
from newsgen.config import load_config
from newsgen.enrich import finalize
from newsgen.plan import Page, plan_site, redirect_pages
from newsgen.publish import site_info, static_files
from newsgen.records import Article


def planned(root: Path) -> tuple[list[Page], Callable[[Article], str], Path]:
    """The site's pages, a body lookup held in memory and the templates folder."""
    config = load_config(root)
    if not (root / CACHE_DIR).is_dir():
        build(config)
    cache = Cache(root / CACHE_DIR / "cache.sqlite")
    try:
        collected = collect(config, cache, scan(config, cache), jobs=1)
    finally:
        cache.close()
    articles, _ = finalize(collected.articles)
    pages = plan_site(articles, settings(config))
    registry, _ = urls.load_registry(config.root)
    redirects, _ = urls.plan_redirects(
        registry, articles, urls.taken_files(pages, static_files(config.source_dir("templates")))
    )
    pages += redirect_pages(redirects)
    reader = BodyReader(root / CACHE_DIR / "cache.sqlite")
    try:
        bodies = {a.body_key: reader.get(a.body_key) for a in articles}
    finally:
        reader.close()
    return pages, lambda a: bodies[a.body_key], config.source_dir("templates")


def kind_of(page: Page) -> str:
    return page.kind or page.template


def timed(pages: Sequence[Page], render_one: Callable[[Page], bytes]) -> dict[str, float]:
    """CPU seconds per page kind for one pass over all pages."""
    spent: dict[str, float] = defaultdict(float)
    clock = time.process_time
    for page in pages:
        start = clock()
        render_one(page)
        spent[kind_of(page)] += clock() - start
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    pages, body_of, templates = planned(args.site.resolve())
    site = site_info(load_config(args.site.resolve()))
    env = render.environment(templates, site)

    def render_one(page: Page) -> bytes:
        return render.render_page(env, page, body_of)

    for page in pages:  # compile every template and warm the caches
        render_one(page)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(timed, pages, render_one)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    runs = [timed(pages, render_one) for _ in range(args.runs)]
    counts: dict[str, int] = defaultdict(int)
    for page in pages:
        counts[kind_of(page)] += 1
    print(f"{'kind':<10} {'pages':>6} {'ms/page':>8}")
    for kind in sorted(counts, key=lambda k: -counts[k]):
        best = min(run[kind] for run in runs)
        print(f"{kind:<10} {counts[kind]:>6} {1000 * best / counts[kind]:>8.3f}")
    total = min(sum(run.values()) for run in runs)
    print(f"{'all':<10} {len(pages):>6} {1000 * total / len(pages):>8.3f}  ({total:.2f} s)")


if __name__ == "__main__":
    main()
