"""The build, top to bottom: configuration, sources, articles, pages, files.

First every input is read and every page planned, so that all data is consistent; only then is
anything written, and only what changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from newsgen import render, write
from newsgen.cache import BodyReader, Cache
from newsgen.collect import collect
from newsgen.config import Config
from newsgen.enrich import finalize
from newsgen.parallel import run
from newsgen.plan import Page, Settings, plan_site, url_to_path
from newsgen.records import Article, Problem

Progress = Callable[[str, int, int], None]
CACHE_DIR = ".newsgen"


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

    @property
    def skipped(self) -> int:
        """Input files that produced no article."""
        return len({p.path for p in self.problems if p.level == "error"})


def build(config: Config, *, jobs: int = 1, progress: Progress | None = None) -> BuildResult:
    """Build the site of `config` into its output folder. Raises OutputError when the output
    folder cannot be used; problems with single inputs are returned, never raised."""
    started = time.perf_counter()
    output = config.output_dir
    write.check_output(
        output,
        [config.root / config.seeds, config.root / config.articles, config.root / config.templates],
    )
    cache = Cache(config.root / CACHE_DIR / "cache.sqlite")
    notes = (f"cache discarded: {cache.discarded}",) if cache.discarded else ()
    try:
        collected = collect(config, cache, jobs=jobs, progress=progress)
        articles, duplicates = finalize(collected.articles)
        pages = plan_site(
            articles,
            Settings(
                per_page=config.per_page, feed_size=config.feed_size, language=config.language
            ),
        )
        written, removed = write_site(pages, config, cache, jobs=jobs, progress=progress)
        cache.prune(collected.keys, (a.body_key for a in collected.articles))
    finally:
        cache.close()
    return BuildResult(
        articles=sum(1 for a in articles if not a.draft),
        pages=len(pages),
        written=written,
        removed=removed,
        enriched=collected.enriched,
        seconds=time.perf_counter() - started,
        problems=tuple(collected.problems + duplicates),
        notes=notes,
    )


# --- writing --------------------------------------------------------------------------------


def build_time() -> dt.datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the Unix epoch: a time shown
    in output must not change from build to build."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "0")
    try:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    except ValueError:
        return dt.datetime.fromtimestamp(0, tz=dt.UTC)


def site_info(config: Config) -> render.Site:
    return render.Site(
        title=config.title,
        base_url=config.base_url,
        base_path=config.base_path,
        language=config.language,
        build_time=build_time(),
    )


def write_site(
    pages: Sequence[Page], config: Config, cache: Cache, *, jobs: int, progress: Progress | None
) -> tuple[int, int]:
    """Render and write the pages whose inputs changed; copy static files; remove what the
    site no longer has. Returns (files written, files removed)."""
    output = config.output_dir
    templates = config.source_dir("templates")
    site = site_info(config)
    salt = "\0".join([render.fingerprint(render.template_dirs(templates)), repr(site)])
    keys = {page.url: page_key(page, salt) for page in pages}
    statics = static_files(templates)
    keys.update(
        {url: hashlib.sha256(path.read_bytes()).hexdigest()[:32] for url, path in statics.items()}
    )
    previous = cache.outputs(str(output))
    stale = [
        p
        for p in pages
        if previous.get(p.url) != keys[p.url] or not (output / url_to_path(p.url)).is_file()
    ]
    write.clean_temporaries(output)
    init = _RenderWorker.setup(templates, site, cache.path, output)
    try:  # nothing replaces a page of the old site until every new file is on disk
        staged = list(
            run(
                _render_one,
                stale,
                jobs=jobs,
                initializer=init,
                progress=progress and (lambda n: progress("writing", n, len(stale))),
            )
        )
        staged += _copy_statics(statics, keys, previous, output)
        write.commit(staged)
    except BaseException:
        write.clean_temporaries(output)
        raise
    copied = len(staged) - len(stale)
    removed = write.remove(output, [url_to_path(u) for u in set(previous) - set(keys)])
    cache.set_outputs(str(output), keys)
    cache.commit()
    return len(stale) + copied, removed


def page_key(page: Page, salt: str) -> str:
    """Everything a page's bytes depend on: its planned data (which holds the article
    records and their body keys), the templates, and the site settings."""
    return hashlib.sha256(f"{salt}\0{page!r}".encode()).hexdigest()[:32]


def static_files(templates: Path) -> dict[str, Path]:
    """Static files by URL; the site's `templates/static/` wins over the theme's."""
    found: dict[str, Path] = {}
    for base in reversed(render.static_dirs(templates)):
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            found["/" + path.relative_to(base).as_posix()] = path
    return found


def _copy_statics(
    statics: dict[str, Path], keys: dict[str, str], previous: dict[str, str], output: Path
) -> list[write.Staged]:
    staged = []
    for url, path in sorted(statics.items()):
        destination = write.target(output, url.lstrip("/"))
        if previous.get(url) != keys[url] or not destination.is_file():
            staged.append(write.stage(destination, path.read_bytes()))
    return staged


class _RenderWorker:
    """Per-process render state. Workers are separate processes, so each needs its own
    Jinja environment and its own read-only connection to the body store."""

    env: jinja2.Environment | None = None
    bodies: BodyReader | None = None
    output = Path()

    @classmethod
    def setup(
        cls, templates: Path, site: render.Site, cache_path: Path, output: Path
    ) -> Callable[[], None]:
        def init() -> None:
            cls.env = render.environment(templates, site)
            cls.bodies = BodyReader(cache_path)
            cls.output = output

        return init


def _render_one(page: Page) -> write.Staged:
    worker = _RenderWorker
    assert worker.env is not None and worker.bodies is not None
    bodies = worker.bodies

    def body_of(article: Article) -> str:
        return bodies.get(article.body_key)

    data = render.render_page(worker.env, page, body_of)
    return write.stage(write.target(worker.output, url_to_path(page.url)), data)
