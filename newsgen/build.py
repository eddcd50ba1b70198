"""The build, top to bottom: configuration, sources, a guarded shortcut, articles, pages,
files, search.

First every input is read and every page planned, so that all data is consistent; only then is
anything written, and only what changed.
"""

from __future__ import annotations

import functools
import gc
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ParamSpec, TypeVar

from newsgen import delta, identity, incremental, media, publish, search, urls, write
from newsgen.cache import Cache, site_lock, with_cache
from newsgen.collect import (
    Collected,
    Readers,
    Scan,
    collect,
    list_sources,
    read_workers,
    remember_state,
    scan,
)
from newsgen.config import Config
from newsgen.enrich import finalize
from newsgen.plan import Page, Settings, plan_site, redirect_pages
from newsgen.records import Article, Problem
from newsgen.result import (
    DRAFT,
    DRAFTS_NOTE,
    SAME_TEXT,
    WARNED,
    Options,
    Progress,
    Run,
    Stopwatch,
    Tally,
)
from newsgen.result import BuildResult as BuildResult  # what `build` returns

CACHE_DIR = ".newsgen"
SOURCE_FOLDERS = ("seeds", "articles", "templates")

P = ParamSpec("P")

R = TypeVar("R")


def _collector_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` with Python's cycle collector off. A build makes hundreds of thousands of
    long-lived objects and next to no cycles: the collector's repeated passes over them were
    a sixth of a one-edit rebuild. It runs again, as usual, once the build returns."""

    @functools.wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused


@_collector_paused
def build(
    config: Config,
    *,
    jobs: int = 1,
    progress: Progress | None = None,
    drafts: bool = False,
    hold: Callable[[Sequence[Problem]], bool] | None = None,
    wait: bool = True,
    waiting: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build the site of `config` into its output folder. Raises OutputError when the output
    folder cannot be used, Busy when another process builds the site (unless `wait`: then
    `waiting` is told who, once, and the build waits for it), CacheUnusable when no cache
    can be written anywhere; problems with single inputs are returned, never raised. A
    cache that fails is replaced (see `with_cache`), and the result's notes say so.

    `drafts` builds draft articles too (a preview): such a build never records URLs.
    `hold` sees the problems before anything is written; when it returns True the output folder
    is left as it was (`newsgen serve` keeps serving the last good build)."""
    write.check_output(config.output_dir, [config.source_dir(name) for name in SOURCE_FOLDERS])
    options = Options(jobs=jobs, progress=progress, drafts=drafts, hold=hold)
    with site_lock(config.root / CACHE_DIR, site=config.root, wait=wait, waiting=waiting) as lock:
        started = time.perf_counter()
        result, notes = with_cache(
            config.root / CACHE_DIR,
            config.root,
            lambda cache: _build(config, cache, options),
            writable=lock.writable,
        )
    return replace(result, notes=(*notes, *result.notes), seconds=time.perf_counter() - started)


def _build(config: Config, cache: Cache, options: Options) -> BuildResult:
    folder = write.open_folder(config.output_dir)
    try:
        return _build_into(Run(config, cache, folder, options))
    except write.OutputError as exc:
        raise write.relocated(exc, folder) from exc.__cause__
    finally:
        write.discard(folder)


def _build_into(run: Run) -> BuildResult:
    config, cache, clock = run.config, run.cache, Stopwatch()
    mirror = media.load(config)
    # Into a folder the cache does not know, the build is a full one: its render workers
    # are forked before the scan, which they would otherwise inherit (see render_workers),
    # and so are its read workers when it reads every article (see read_workers).
    early = not publish.known(cache, run.folder)
    listed = _sources_listed(config) if early else 0
    workers = publish.render_workers(run, mirror, listed) if early else None
    readers = read_workers(config, cache, jobs=run.jobs, sources=listed) if early else None
    try:
        found = _kept_or_scanned(run, mirror, clock)
        if isinstance(found, BuildResult):
            return found
        state = incremental.state_of(run, found, mirror)
        shortcut = incremental.shortcut(run, found, state, clock)
        if shortcut is not None:
            return shortcut
        interrupted = not state.known or cache.unfinished(str(run.output))
        cache.start_build(str(run.output))
        if not early:
            workers = publish.render_workers(run, state.mirror, len(found.seeds))
        # Handed over in a list that _full_build empties, so that this frame does not hold
        # the scan through the render (see _full_build).
        scans = [found]
        del found
        return _full_build(run, scans, state, clock, interrupted, (readers, workers))
    finally:
        for pool in (readers, workers):
            if pool is not None:
                pool.close()


def _kept_or_scanned(run: Run, mirror: media.Media, clock: Stopwatch) -> BuildResult | Scan:
    """The last build's result when the sources are listed as a scan found them before and
    all else is the same (nothing to do); else the sources, scanned. (The listing is not
    kept: at 100,000 files it holds 32 MB, by tracemalloc, part of it the paths the scan
    keeps.)"""
    listing = list_sources(run.config, jobs=run.jobs, cache=run.cache)
    listed = incremental.listed_state(run, listing, mirror)
    kept = listed and incremental.kept(run, listed, clock)
    return kept or scan(run.config, run.cache, jobs=run.jobs, listing=listing)


def _sources_listed(config: Config) -> int:
    """How many names the seed folder lists (0 when it cannot be listed): the scan checks
    them; this only tells a site of a few articles from a large one."""
    try:
        with os.scandir(config.source_dir("seeds")) as listed:
            return sum(1 for _ in listed)
    except OSError:
        return 0


def _full_build(
    run: Run,
    scans: list[Scan],
    state: incremental.State,
    clock: Stopwatch,
    interrupted: bool,
    forked: tuple[Readers | None, publish.RenderWorkers | None],
) -> BuildResult:
    """Read, plan, write and index the site; `scans` holds the sources scanned, taken out;
    `forked`, the read and render workers forked before them, if any."""
    config, cache, options = run.config, run.cache, run.options
    readers, workers = forked
    collected = collect(
        config, cache, scans.pop(), jobs=run.jobs, progress=options.progress, readers=readers
    )
    found = collected.found  # with the hashes of the seeds read for the first time just now
    scanned = found.state()  # a hash over every source: at 1M files, half a second
    remember_state(cache, found, scanned)
    clock.lap("read")
    planned = _plan(run, collected, state.registry)
    clock.lap("plan")
    tallied = tally(collected, planned.articles, planned.problems, options.drafts)
    if options.hold is not None and options.hold(planned.problems):
        return _result(planned, tallied, collected.enriched, options, clock)
    # Stored at once, and before the render (write_site commits it before the workers read
    # the cache; stored while they read, it failed with "database is locked" at 100,000),
    # so that what only the plan needs is not held through the render: every source with
    # its hash, and the two scans of them, the unit of each article (a fifth of what this
    # process held then).
    memo = delta.store(cache, delta.record(found, collected, planned.articles, planned.pages))
    enriched, content, units = collected.enriched, collected.article_keys, collected.keys
    bodies = [a.body_key for a in collected.articles]
    del found, collected
    previous = cache.outputs(str(run.output)) if state.known else {}
    done = publish.write_site(
        run,
        planned.pages,
        content,
        known=state.known,
        previous=previous,
        interrupted=interrupted,
        statics=planned.statics,
        mirror=state.mirror,
        workers=workers,
    )
    if options.drafts:
        urls.keep_preview(cache, state.registry, planned.registry, planned.articles, planned.files)
    else:
        saved = urls.save_registry(config.root, planned.registry, planned.articles, planned.files)
        planned = replace(planned, problems=[*planned.problems, *saved])
        urls.forget_previews(cache)
    clock.lap("write")
    indexed = _index(run, planned.articles)
    clock.lap("search" if indexed else "")
    result = replace(
        _result(planned, tallied, enriched, options, clock),
        written=done.written,
        removed=done.removed,
        search=indexed,
    )
    run.cache.prune(units, bodies)
    _remember(run, state.with_inputs(scanned), memo, result, done)
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """The site as planned: the articles finalize kept, every page (redirects included),
    the static files, the URL registry as read, the file that identifies each article
    identified by its file (by article id), and every problem so far."""

    articles: list[Article]
    pages: list[Page]
    statics: dict[str, Path]
    registry: urls.Registry
    files: dict[str, str]
    problems: list[Problem]


def _plan(run: Run, collected: Collected, registry_key: str) -> Planned:
    """Plan the site; `registry_key` is the hash of `urls.yaml` (for a preview's own)."""
    config = run.config
    registry, url_problems = urls.load_registry(config.root, run.cache)
    if run.options.drafts:
        registry = urls.previewed(registry, run.cache, registry_key)
    identified = identify(collected, registry)
    articles, duplicates = finalize(identified)
    pages = plan_site(articles, settings(config, run.options.drafts))
    statics = publish.static_files(config.source_dir("templates"))
    redirects, redirect_problems = urls.plan_redirects(
        registry, articles, urls.taken_files(pages, statics)
    )
    problems = collected.problems + duplicates + url_problems + redirect_problems
    return Planned(
        articles=articles,
        pages=pages + redirect_pages(redirects),
        statics=statics,
        registry=registry,
        files={a.id: collected.files[a.path] for a in articles if a.path in collected.files},
        problems=delta.sort_problems(problems),
    )


def identify(collected: Collected, registry: urls.Registry) -> list[Article]:
    """The collected articles, each identified by its file with the id `identity.assign`
    gives it (the others as they are)."""
    files = collected.files
    claims = [
        identity.Claim(path=files[a.path], made=a.id, sketch=a.sketch, settled=not a.draft)
        for a in collected.articles
        if a.path in files
    ]
    if not claims:
        return collected.articles
    present = {s.path for s in (*collected.found.seeds, *collected.found.curated)}
    present |= {p.path for p in collected.found.problems}
    ids = identity.assign(claims, registry.known(), present)
    return [
        replace(a, id=ids[files[a.path]]) if a.path in files and a.id != ids[files[a.path]] else a
        for a in collected.articles
    ]


def settings(config: Config, drafts: bool = False) -> Settings:
    return Settings(
        per_page=config.per_page,
        feed_size=config.feed_size,
        language=config.language,
        drafts=drafts,
        search=config.search,
    )


def _index(run: Run, articles: Sequence[Article]) -> search.IndexReport | None:
    """The search index of the site written into the output folder; with search off, none,
    and the index of an earlier build is removed."""
    if not run.config.search:
        search.remove_index(run.folder.into)
        return None
    return publish.index_search(run, articles, run.folder.into)


def tally(
    collected: Collected, kept: Sequence[Article], problems: Sequence[Problem], drafts: bool
) -> Tally:
    """What became of every input file: the files of each published article (a seed, the
    curated file over it) are built; the files of a draft, or of an article that finalize
    dropped as having the same text as another, are skipped; any other file has failed when
    it has an error, else it is skipped as its warning says."""
    found = collected.found
    files = {s.path for s in (*found.seeds, *found.curated)} | {p.path for p in found.problems}
    units = collected.article_units

    def sources(articles: Iterable[Article]) -> set[str]:
        return {path for a in articles for path in (a.path, units[a.path])}

    errors = {p.path for p in problems if p.level == "error"}
    built = sources(a for a in kept if drafts or not a.draft)
    draft = sources(a for a in kept if a.draft and not drafts) - built
    kept_paths = {a.path for a in kept}
    dropped = sources(a for a in collected.articles if a.path not in kept_paths)
    same = dropped - errors - built - draft
    failed = (files & errors) - built - draft - same
    warned = files - built - draft - same - failed
    reasons = ((SAME_TEXT, len(same)), (DRAFT, len(draft)), (WARNED, len(warned)))
    return Tally(
        files=len(files),
        built=len(built & files),
        skipped=tuple((why, n) for why, n in reasons if n),
        failed=len(failed),
    )


def _result(
    planned: Planned, tallied: Tally, enriched: int, options: Options, clock: Stopwatch
) -> BuildResult:
    """What a full build did, before anything is written (`tallied`: its input files, see
    `tally`; `enriched`: how many were read)."""
    drafts, articles, problems = options.drafts, planned.articles, planned.problems
    return BuildResult(
        tally=tallied,
        articles=sum(1 for a in articles if drafts or not a.draft),
        pages=len(planned.pages),
        written=0,
        removed=0,
        enriched=enriched,
        seconds=0.0,  # `build` times the whole
        problems=tuple(problems),
        notes=(DRAFTS_NOTE,) if drafts and any(a.draft for a in articles) else (),
        timings=tuple(clock.laps),
    )


def _remember(
    run: Run,
    state: incremental.State,
    memo: delta.Memo,
    result: BuildResult,
    done: publish.Written,
) -> None:
    """Keep what the next build needs to take a shortcut, and put the output in place."""
    # The registry as this build saved it: a file changed meanwhile makes the next build a
    # real one (and `state` has the inputs as this build read them).
    state = replace(state, registry=incremental.registry_digest(run.config))
    delta.remember(run.cache, state.plan_key, memo)
    publish.finish(run.cache, run.folder, state.build_key, result, done)
