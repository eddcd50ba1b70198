"""The build, top to bottom: configuration, sources, articles, pages, files.

First every input is read and every page planned, so that all data is consistent; only then is
anything written, and only what changed.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from newsgen import delta, search, theme, urls, write
from newsgen.cache import CODE, BodyReader, Cache, output_name, site_lock, with_cache
from newsgen.collect import Scan, collect, scan
from newsgen.config import Config
from newsgen.enrich import finalize
from newsgen.parallel import run
from newsgen.plan import Page, Settings, plan_site, redirect_pages, url_to_path
from newsgen.records import Article, Problem

if TYPE_CHECKING:
    import jinja2

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
    timings: tuple[tuple[str, float], ...] = ()
    search: search.IndexReport | None = None
    # True when only the pages that show changed articles were considered (newsgen.delta).
    kept_plan: bool = False

    @property
    def skipped(self) -> int:
        """Input files that produced no article."""
        return len({p.path for p in self.problems if p.level == "error"})


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """How to build (see `build`)."""

    jobs: int = 1
    progress: Progress | None = None
    drafts: bool = False
    hold: Callable[[Sequence[Problem]], bool] | None = None


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
        return _build_into(config, cache, folder, options)
    except write.OutputError as exc:
        raise write.relocated(exc, folder) from exc.__cause__
    finally:
        write.discard(folder)


def _build_into(
    config: Config, cache: Cache, folder: write.Folder, options: Options
) -> BuildResult:
    started = time.perf_counter()
    jobs, progress, drafts, hold = options.jobs, options.progress, options.drafts, options.hold
    output = config.output_dir
    clock = Stopwatch()
    found = scan(config, cache, jobs=jobs)
    outline = frame(config, drafts)
    inputs = input_state(outline, found)
    saved = registry_digest(config)
    known = _known(cache, folder)
    unchanged = known and _unchanged(cache, output, f"{inputs}:{saved}", config.search)
    if unchanged:
        return replace(
            unchanged,
            written=0,
            removed=0,
            enriched=0,
            notes=(),
            kept_plan=True,
            seconds=time.perf_counter() - started,
            timings=(("scan", clock.lap()),),
            search=unchanged.search
            and replace(unchanged.search, indexed=0, records=0, seconds=0.0),
        )
    interrupted = not known or cache.unfinished(str(output))
    if not interrupted:
        kept = _keep_plan(
            config, cache, folder, found, (inputs, outline, saved), clock, jobs=jobs, hold=hold
        )
        if kept is not None:
            return replace(kept, seconds=time.perf_counter() - started)
    cache.start_build(str(output))
    collected = collect(config, cache, found, jobs=jobs, progress=progress)
    # With the hashes of the seeds that were read for the first time just now.
    found = collected.found
    inputs = input_state(outline, found)
    clock.lap("read")
    articles, duplicates = finalize(collected.articles)
    registry, url_problems = urls.load_registry(config.root, cache)
    pages = plan_site(articles, settings(config, drafts))
    statics = static_files(config.source_dir("templates"))
    redirects, redirect_problems = urls.plan_redirects(
        registry, articles, urls.taken_files(pages, statics)
    )
    pages += redirect_pages(redirects)
    clock.lap("plan")
    problems = delta.sort_problems(
        collected.problems + duplicates + url_problems + redirect_problems
    )
    held = hold is not None and hold(problems)
    written = removed = 0
    record: dict[str, str] = {}
    recorded: list[delta.Plan] = []
    if not held:
        previous = cache.outputs(str(output)) if known else {}
        written, removed, record = write_site(
            pages,
            config,
            cache,
            collected.article_keys,
            out=Output(folder=folder, known=known, previous=previous),
            jobs=jobs,
            progress=progress,
            interrupted=interrupted,
            statics=statics,
            meanwhile=lambda: recorded.append(delta.record(found, collected, articles, pages)),
        )
    if not drafts and not held:
        problems += urls.save_registry(config.root, registry, articles)
    clock.lap("write")
    indexed = None
    if not held and config.search:
        indexed = _index(articles, cache, config, folder.into, jobs)
        clock.lap("search")
    elif not held:
        search.remove_index(folder.into)
    notes = [DRAFTS_NOTE] if drafts and any(a.draft for a in articles) else []
    result = BuildResult(
        articles=sum(1 for a in articles if drafts or not a.draft),
        pages=len(pages),
        written=written,
        removed=removed,
        enriched=collected.enriched,
        seconds=time.perf_counter() - started,
        problems=tuple(problems),
        notes=tuple(notes),
        timings=tuple(clock.laps),
        search=indexed,
    )
    if not held:
        cache.prune(collected.keys, (a.body_key for a in collected.articles))
        # The inputs as this build read them, and the registry as it saved it: a file
        # changed meanwhile makes the next build a real one.
        saved = registry_digest(config)
        plan = recorded[0] if recorded else delta.record(found, collected, articles, pages)
        delta.remember(cache, f"{outline}:{saved}", plan)
        _finish(cache, folder, f"{inputs}:{saved}", result, record)
    return result


def _finish(
    cache: Cache, folder: write.Folder, state: str, result: BuildResult, record: dict[str, str]
) -> None:
    """Record the build, mark the output folder as the one recorded (it holds the files of
    `record`), and put it in place."""
    marker = marker_of(record)
    write.write_marker(folder, marker, map(url_to_path, record))
    cache.finish_build(str(folder.path), state, result, marker)
    cache.commit()
    write.install(folder)


def _known(cache: Cache, folder: write.Folder) -> bool:
    """Whether the output folder is the one the cache recorded (see write.Folder)."""
    return bool(folder.marker) and folder.marker == cache.marker(str(folder.path))


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    """The output folder as this build found it. `previous` is the key of each file the
    cache knows to be in it; into a folder that is not `known`, every file is written, and
    of the files there, only those its marker lists are newsgen's to remove."""

    folder: write.Folder
    known: bool
    previous: dict[str, str]


SOURCE_FOLDERS = ("seeds", "articles", "templates")
MAX_MISSING = 1000
DRAFTS_NOTE = "drafts are included (--drafts): do not publish this build"


def _may_shortcut(last: BuildResult) -> bool:
    """A rebuild may keep the last plan unless the last build could not record the URLs
    (a full build tries again)."""
    return not any(p.path == urls.REGISTRY_NAME for p in last.problems)


def _keep_plan(
    config: Config,
    cache: Cache,
    folder: write.Folder,
    found: Scan,
    states: tuple[str, str, str],
    clock: Stopwatch,
    *,
    jobs: int,
    hold: Callable[[Sequence[Problem]], bool] | None,
) -> BuildResult | None:
    """The rebuild that keeps the last plan (see newsgen.delta), or None when the plan may
    have changed. `states` are the input state, the frame and the registry's digest."""
    _, outline, saved = states
    last = cache.last_build(str(config.output_dir), None)
    if not isinstance(last, BuildResult) or not _may_shortcut(last):
        return None
    shortcut = delta.prepare(config, cache, found, f"{outline}:{saved}", last.problems, jobs=jobs)
    if shortcut is None:
        return None
    return _rebuild(config, cache, folder, shortcut, last, states, clock, jobs=jobs, hold=hold)


def _rebuild(
    config: Config,
    cache: Cache,
    folder: write.Folder,
    shortcut: delta.Shortcut,
    last: BuildResult,
    states: tuple[str, str, str],
    clock: Stopwatch,
    *,
    jobs: int,
    hold: Callable[[Sequence[Problem]], bool] | None,
) -> BuildResult | None:
    """Rebuild the pages that show the changed articles (and any page whose file is
    missing), keeping the last plan; None when a page is not on record. `states` are the
    input state, the frame and the registry's digest (the registry is left as it is)."""
    inputs, outline, saved = states
    output = config.output_dir
    clock.lap("read")
    previous = cache.outputs(str(output))
    statics = static_files(config.source_dir("templates"))
    missing = missing_files(output, previous) - statics.keys()
    if len(missing) > MAX_MISSING:
        return None  # a deleted output folder: a full build writes it all at the same cost
    loaded = delta.load_pages(cache, missing, shortcut)
    if loaded is None:
        return None
    pages, content = loaded
    clock.lap("plan")
    if hold is not None and hold(shortcut.problems):
        return replace(
            last, written=0, removed=0, problems=tuple(shortcut.problems), kept_plan=True
        )
    cache.start_build(str(output))
    written, _, record = write_site(
        pages,
        config,
        cache,
        content,
        out=Output(folder=folder, known=True, previous=previous),
        jobs=jobs,
        progress=None,
        interrupted=False,
        statics=statics,
        partial=True,
    )
    cache.replace_placed(shortcut.placed)
    cache.remember(delta.MEMO, f"{outline}:{saved}", shortcut.memo)
    clock.lap("write")
    indexed = None
    if config.search:
        articles = delta.all_articles(cache, shortcut.changed)
        indexed = _index(articles, cache, config, output, jobs)
        clock.lap("search")
    else:
        search.remove_index(output)
    result = replace(
        last,
        written=written,
        removed=0,
        enriched=shortcut.enriched,
        problems=tuple(shortcut.problems),
        notes=tuple(n for n in last.notes if n == DRAFTS_NOTE),
        timings=tuple(clock.laps),
        search=indexed,
        kept_plan=True,
    )
    _finish(cache, folder, f"{inputs}:{saved}", result, record)
    return result


def _index(
    articles: Sequence[Article], cache: Cache, config: Config, into: Path, jobs: int
) -> search.IndexReport:
    """Index the search of the site written in `into`."""
    bodies = BodyReader(cache.path)
    try:
        language = config.language
        return search.index_site(
            articles, lambda a: bodies.get(a.body_key), into, language, jobs=jobs
        )
    finally:
        bodies.close()


def settings(config: Config, drafts: bool = False) -> Settings:
    return Settings(
        per_page=config.per_page,
        feed_size=config.feed_size,
        language=config.language,
        drafts=drafts,
        search=config.search,
    )


def frame(config: Config, drafts: bool) -> str:
    """A hash of everything a build reads but the source files: newsgen's code, the
    settings, the templates and static files, SOURCE_DATE_EPOCH."""
    templates = config.source_dir("templates")
    parts = [
        CODE,
        config.fingerprint(),
        output_name(str(config.output_dir), config.root),
        repr(site_info(config)),
        # The packaged static files too: a theme's new script must reach a built site.
        theme.fingerprint([*theme.template_dirs(templates), *theme.static_dirs(templates)]),
        f"drafts={drafts}",
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def input_state(outline: str, found: Scan) -> str:
    """A hash of everything a build reads: its `frame` and every input file ("" while a
    seed is unread: no earlier build can have had the same inputs)."""
    state = found.state()
    return hashlib.sha256(f"{outline}\0{state}".encode()).hexdigest() if state else ""


def registry_digest(config: Config) -> str:
    """A hash of the URL registry, which a build reads and may rewrite."""
    registry = config.root / urls.REGISTRY_NAME
    return hashlib.sha256(registry.read_bytes()).hexdigest() if registry.is_file() else ""


def _unchanged(cache: Cache, output: Path, state: str, searched: bool) -> BuildResult | None:
    """The last result, when it was built from the same inputs and its files (and search
    index, when `searched`) are all there."""
    last = cache.last_build(str(output), state)
    if not isinstance(last, BuildResult):
        return None
    written = cache.outputs(str(output))
    if searched and not search.index_present(output):
        return None
    return None if missing_files(output, written) else last


def missing_files(output: Path, urls: Iterable[str]) -> set[str]:
    """The URLs whose file is not in the output folder.

    A page that is a folder's index.html (one per article) is found by listing the folder
    above it once, not by a system call per page: on 10,000 articles that is 5 ms instead of
    half a second. (An index.html deleted from a folder that is still there goes unseen;
    deleting the page's folder, or the output folder, is seen.)"""
    listed: dict[str, set[str]] = {}
    missing = set()
    for url in urls:
        path = url_to_path(url)
        head, _, name = path.rpartition("/")
        parent, _, folder = head.rpartition("/")
        if name == "index.html" and folder:
            if parent not in listed:
                listed[parent] = _folders(output / parent)
            if folder not in listed[parent]:
                missing.add(url)
        elif not os.path.isfile(os.path.join(output, path)):
            missing.add(url)
    return missing


def _folders(path: Path) -> set[str]:
    try:
        with os.scandir(path) as entries:
            return {e.name for e in entries if e.is_dir()}
    except OSError:
        return set()


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


# --- writing --------------------------------------------------------------------------------


def build_time() -> dt.datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the Unix epoch: a time shown
    in output must not change from build to build."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "0")
    try:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    except ValueError:
        return dt.datetime.fromtimestamp(0, tz=dt.UTC)


def site_info(config: Config) -> theme.Site:
    return theme.Site(
        title=config.title,
        base_url=config.base_url,
        base_path=config.base_path,
        language=config.language,
        build_time=build_time(),
        search=config.search,
    )


def write_site(
    pages: Sequence[Page],
    config: Config,
    cache: Cache,
    content: dict[str, str],
    *,
    out: Output,
    jobs: int,
    progress: Progress | None,
    interrupted: bool = True,
    statics: dict[str, Path] | None = None,
    partial: bool = False,
    meanwhile: Callable[[], None] | None = None,
) -> tuple[int, int, dict[str, str]]:
    """Render and write the pages whose inputs changed; copy static files (`statics`, when
    the caller already listed them); remove what the site no longer has. Returns the files
    written, the files removed, and the key of every file newsgen now has in the folder.
    `meanwhile` runs while the workers render.

    When `partial`, `pages` may be only some of the site's: the pages not given are kept as
    they are (as `out.previous` records them), and nothing is removed."""
    into, previous = out.folder.into, out.previous
    recorded = previous
    templates = config.source_dir("templates")
    site = site_info(config)
    salt = "\0".join([CODE, theme.fingerprint(theme.template_dirs(templates)), repr(site)])
    found = statics if statics is not None else static_files(templates)
    keys: dict[str, str] = {}

    def key_all() -> None:
        keys.update(page_keys(pages, salt, content))
        keys.update(
            {url: hashlib.sha256(path.read_bytes()).hexdigest()[:32] for url, path in found.items()}
        )

    if previous:
        key_all()
        kept = (p.url for p in pages if previous.get(p.url) == keys[p.url])
        missing = missing_files(into, kept)
        stale = [p for p in pages if previous.get(p.url) != keys[p.url] or p.url in missing]
        alongside = meanwhile
    else:
        # Nothing was written before, so every page is: its key can wait until the workers
        # render (on two cores, the parent's share of a cold build at 100k articles).
        stale = list(pages)

        def alongside() -> None:
            key_all()
            if meanwhile:
                meanwhile()

    if interrupted:  # a killed build may have left temporary files; finding them walks it all
        write.clean_temporaries(into)
    # Renderers read bodies through connections of their own. Rows written but not committed
    # here spill into the file, past SQLite's page cache, under an exclusive lock, which locks
    # them out (a rollback journal, not WAL: see Cache).
    cache.commit()
    # Into a new output folder, pages are written in place: no reader sees that folder
    # before `install` renames it, and renaming every page afterwards cost the parent a
    # tenth of a second per 10,000 pages.
    ordered, spans = render_order(stale)
    init = _RenderWorker.setup(templates, site, cache.path, into, ordered, out.folder.new)
    try:  # nothing replaces a page of the old site until every new file is on disk
        work = run(
            _render_span,
            spans,
            jobs=jobs,
            chunk=1,
            size=len(ordered),
            initializer=init,
            progress=progress and (lambda n: progress("writing", spans[n - 1][1], len(stale))),
            meanwhile=alongside,
        )
        staged = [one for span in work for one in span]
        copied = _copy_statics(found, keys, previous, into)
        staged += copied.values()
        listed = _listed(out)
        if out.known:
            recorded = {**previous, **_forget(cache, out, [*(p.url for p in stale), *copied])}
        if not out.folder.new:
            _list_ahead(out, keys, listed)
        write.commit(staged)
    except BaseException:
        write.clean_temporaries(into)
        raise
    finally:
        _RenderWorker.pages = ()
    written = len(stale) + len(copied)
    name = str(out.folder.path)
    if partial:
        cache.set_outputs(name, keys, {u: recorded[u] for u in keys if u in recorded})
        cache.commit()
        return written, 0, {**previous, **keys}
    if out.known:
        gone = [url_to_path(u) for u in set(previous) - set(keys)]
    else:
        gone = list(listed - {url_to_path(u) for u in keys})
    removed = write.remove(into, gone)
    cache.set_outputs(name, keys, recorded if out.known else None)
    cache.commit()
    return written, removed, keys


def _listed(out: Output) -> set[str]:
    """The files newsgen has in a folder that the cache does not know, as its marker lists
    them (none in a folder someone else made)."""
    if out.known or out.folder.marker is None:
        return set()
    return write.marked_files(out.folder.into)


def _list_ahead(out: Output, keys: dict[str, str], listed: set[str]) -> None:
    """Before new files are renamed into an existing folder, make its marker list them: a
    build killed meanwhile leaves files that no cache records, and the next build knows
    them from the marker. A known folder keeps its marker (and stays known); another gets
    the empty one, which no cache knows."""
    if out.known:
        if keys.keys() <= out.previous.keys():
            return
        files = {url_to_path(u) for u in (*out.previous, *keys)}
        write.write_marker(out.folder, out.folder.marker or "", files)
    else:
        write.write_marker(out.folder, "", listed | {url_to_path(u) for u in keys})


def marker_of(keys: dict[str, str]) -> str:
    """The marker of an output folder holding the files of `keys` (see write.Folder): a
    hash of its content, so that a rebuild and a clean build leave the same bytes."""
    lines = "\n".join(f"{url} {key}" for url, key in sorted(keys.items()))
    return hashlib.sha256(lines.encode()).hexdigest()[:32]


def _forget(cache: Cache, out: Output, urls: list[str]) -> dict[str, str]:
    """Record that the files at `urls` are about to be replaced (see Cache.forget_outputs);
    returns the record as it now is for them."""
    cache.forget_outputs(str(out.folder.path), urls)
    return dict.fromkeys(urls, "")


def page_keys(pages: Sequence[Page], salt: str, content: dict[str, str]) -> dict[str, str]:
    """Everything each page's bytes depend on (every field in KEYED_FIELDS): its planned data,
    the articles it shows, the templates and the site settings. An article is named by its
    unit key (its content is a pure function of it) plus the slug finalize gave it. Not its
    `order`: that is only a sort key, and it shifts for every later article when a file is
    added."""
    trails: dict[int, tuple[tuple[object, ...], str]] = {}
    keys = {}
    for page in pages:
        articles = (page.article, page.prev, page.next, *page.articles)
        shown = "\0".join(f"{content[a.path]}:{a.slug}" if a else "-" for a in articles)
        # A month's articles share one breadcrumb trail: its (dataclass) repr is made once.
        trail = trails.get(id(page.crumbs))
        if trail is None or trail[0] is not page.crumbs:
            trail = trails[id(page.crumbs)] = (page.crumbs, repr(page.crumbs))
        plain = repr(
            (
                page.url,
                page.template,
                page.title,
                page.lang,
                page.kind,
                page.pager,
                page.groups,
                page.feed,
                page.urls,
                page.redirects,
            )
        )
        text = f"{salt}\0{plain}\0{trail[1]}\0{shown}"
        keys[page.url] = hashlib.sha256(text.encode()).hexdigest()[:32]
    return keys


KEYED_FIELDS = frozenset(
    [
        "url",
        "template",
        "title",
        "lang",
        "kind",
        "pager",
        "groups",
        "feed",
        "urls",
        "redirects",
        "crumbs",
        "article",
        "prev",
        "next",
        "articles",
    ]
)


def static_files(templates: Path) -> dict[str, Path]:
    """Static files by URL; the site's `templates/static/` wins over the theme's."""
    found: dict[str, Path] = {}
    for base in reversed(theme.static_dirs(templates)):
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            found["/" + path.relative_to(base).as_posix()] = path
    return found


def _copy_statics(
    statics: dict[str, Path], keys: dict[str, str], previous: dict[str, str], output: Path
) -> dict[str, write.Staged]:
    """Stage the static files that changed or are missing, by URL."""
    staged = {}
    for url, path in sorted(statics.items()):
        destination = write.target(output, url.lstrip("/"))
        if previous.get(url) != keys[url] or not destination.is_file():
            staged[url] = write.stage(destination, path.read_bytes())
    return staged


class _RenderWorker:
    """Per-process render state. Workers are separate processes, so each needs its own
    Jinja environment and its own read-only connection to the body store."""

    env: jinja2.Environment | None = None
    bodies: BodyReader | None = None
    output = Path()
    in_place = False
    # The pages to render, inherited by the forked workers: each task is then an index, not
    # a pickled page with its article records (tens of megabytes across a large site).
    pages: Sequence[Page] = ()

    @classmethod
    def setup(
        cls,
        templates: Path,
        site: theme.Site,
        cache_path: Path,
        output: Path,
        pages: Sequence[Page],
        in_place: bool = False,
    ) -> Callable[[], None]:
        cls.pages = pages

        def init() -> None:
            from newsgen import render  # Jinja: only for builds that render

            cls.env = render.environment(templates, site, cache_path.parent / "jinja")
            cls.bodies = BodyReader(cache_path)
            cls.output, cls.in_place = output, in_place

        return init


RENDER_SPAN = 64


def render_order(pages: Sequence[Page]) -> tuple[list[Page], list[tuple[int, int]]]:
    """The pages in the order workers take them, and the spans a worker takes at a time.
    The pages that list articles (listings, feeds, the sitemap) come first, as one span: one
    worker draws them all, and so each article's teaser once (the partial cache is per
    process), while the others start on the article pages, 64 at a time."""
    listing = [p for p in pages if p.articles]
    ordered = listing + [p for p in pages if not p.articles]
    spans = [(0, len(listing))] if listing else []
    starts = range(len(listing), len(ordered), RENDER_SPAN)
    spans += [(start, min(start + RENDER_SPAN, len(ordered))) for start in starts]
    return ordered, spans


def _render_span(span: tuple[int, int]) -> list[write.Staged]:
    worker = _RenderWorker
    assert worker.env is not None and worker.bodies is not None
    bodies = worker.bodies
    pages = worker.pages[span[0] : span[1]]
    shown = bodies.get_many(page.article.body_key for page in pages if page.article)

    def body_of(article: Article) -> str:
        body = shown.get(article.body_key)
        return bodies.get(article.body_key) if body is None else body

    from newsgen import render

    staged = []
    for page in pages:
        data = render.render_page(worker.env, page, body_of)
        path = write.target_path(worker.output, url_to_path(page.url))
        staged.append(write.put(path, data) if worker.in_place else write.stage(path, data))
    return staged
