"""The shortcuts a build takes when it can prove that most of the last build still holds:
the same inputs with every file in place (nothing to do), or edits that move no article in
the site (newsgen.delta: only the pages that show the edited articles are rendered again).
The build asks `shortcut` first; None means that it must build everything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from newsgen import delta, media, publish, search, theme, urls
from newsgen.cache import CODE, Cache, output_name
from newsgen.collect import Listing, Scan, known_state, remember_state
from newsgen.config import Config
from newsgen.result import DRAFTS_NOTE, BuildResult, Run, Stopwatch

# Beyond this many missing pages (a deleted output folder), a full build costs the same.
MAX_MISSING = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """What the last build must have had in common with this one for a shortcut: the
    `frame` (code, settings, theme, media store), the input files, the URL registry, and the
    output folder (`known`: the one the cache recorded). `mirror` is the media store as the
    frame has it, read once for the whole build."""

    frame: str
    inputs: str
    registry: str
    known: bool
    mirror: media.Media

    @property
    def plan_key(self) -> str:
        """What the last plan was made from, inputs aside."""
        return f"{self.frame}:{self.registry}"

    @property
    def build_key(self) -> str:
        """What the last build was made from."""
        return f"{self.inputs}:{self.registry}"

    def with_inputs(self, scanned: str) -> State:
        """The state with the inputs a scan found (`scanned`, its `Scan.state()`)."""
        return replace(self, inputs=input_state(self.frame, scanned))


def state_of(run: Run, found: Scan, mirror: media.Media) -> State:
    """The state of this build; `mirror`, the media store as the build read it."""
    scanned = found.state()
    remember_state(run.cache, found, scanned)
    return _state(run, scanned, mirror)


def listed_state(run: Run, listing: Listing, mirror: media.Media) -> State | None:
    """The state of this build from the listing of its sources alone, when a scan of the
    same listing found their state before (see `Listing`); else None."""
    scanned = known_state(run.cache, listing)
    return _state(run, scanned, mirror) if scanned else None


def _state(run: Run, scanned: str, mirror: media.Media) -> State:
    outline = frame(run.config, run.options.drafts, mirror.state)
    return State(
        frame=outline,
        inputs=input_state(outline, scanned),
        registry=registry_digest(run.config),
        known=publish.known(run.cache, run.folder),
        mirror=mirror,
    )


def kept(run: Run, state: State, clock: Stopwatch) -> BuildResult | None:
    """The last build's result, when it had the same inputs and its files are all in place
    (nothing to do); else None."""
    if not state.known:
        return None
    unchanged = _unchanged(run.cache, run.config.output_dir, state.build_key, run.config.search)
    if unchanged is None:
        return None
    return replace(
        unchanged,
        written=0,
        removed=0,
        enriched=0,
        notes=(),
        kept_plan=True,
        timings=(("scan", clock.lap()),),
        search=unchanged.search and replace(unchanged.search, indexed=0, records=0, seconds=0.0),
    )


def shortcut(run: Run, found: Scan, state: State, clock: Stopwatch) -> BuildResult | None:
    """The result of this build when a shortcut can make it, else None (build everything)."""
    config, cache = run.config, run.cache
    if not state.known:
        return None
    unchanged = kept(run, state, clock)
    if unchanged is not None:
        return unchanged
    if cache.unfinished(str(config.output_dir)):
        return None
    last = cache.last_build(str(config.output_dir), None)
    if not isinstance(last, BuildResult) or not _may_shortcut(last):
        return None
    edits = delta.prepare(config, cache, found, state.plan_key, last.problems, jobs=run.jobs)
    if edits is None:
        return None
    return _rebuild(run, edits, last, state, clock)


def frame(config: Config, drafts: bool, store: str) -> str:
    """A hash of everything a build reads but the source files: newsgen's code, the
    settings, the media store (`store`, its state), the templates and static files,
    SOURCE_DATE_EPOCH."""
    templates = config.source_dir("templates")
    parts = [
        CODE,
        config.fingerprint(),
        f"media={store}",
        output_name(str(config.output_dir), config.root),
        repr(publish.site_info(config)),
        # The packaged static files too: a theme's new script must reach a built site.
        theme.fingerprint([*theme.template_dirs(templates), *theme.static_dirs(templates)]),
        f"drafts={drafts}",
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def input_state(outline: str, scanned: str) -> str:
    """A hash of everything a build reads: its `frame` and every input file (`scanned`, the
    scan's `Scan.state()`; "" while a seed is unread: no earlier build can have had the
    same inputs)."""
    return hashlib.sha256(f"{outline}\0{scanned}".encode()).hexdigest() if scanned else ""


def registry_digest(config: Config) -> str:
    """A hash of the URL registry, which a build reads and may rewrite."""
    registry = config.root / urls.REGISTRY_NAME
    return hashlib.sha256(registry.read_bytes()).hexdigest() if registry.is_file() else ""


def _unchanged(cache: Cache, output: Path, state: str, searched: bool) -> BuildResult | None:
    """The last result, when it was built from the same inputs and its files (image
    variants and search index, when `searched`, included) are all there."""
    last = cache.last_build(str(output), state)
    if not isinstance(last, BuildResult):
        return None
    if searched and not search.index_present(output):
        return None
    if not publish.variants_in_place(cache, output):
        return None
    missing = publish.missing_outputs(cache, output, partial(cache.output_urls, str(output)))
    return None if missing else last


def _may_shortcut(last: BuildResult) -> bool:
    """A rebuild may keep the last plan unless the last build could not record the URLs
    (a full build tries again)."""
    return not any(p.path == urls.REGISTRY_NAME for p in last.problems)


def _rebuild(
    run: Run, edits: delta.Shortcut, last: BuildResult, state: State, clock: Stopwatch
) -> BuildResult | None:
    """Rebuild the pages that show the changed articles (and any page whose file is
    missing), keeping the last plan; None when a page is not on record. The registry is
    left as it is."""
    config, cache, output, hold = run.config, run.cache, run.output, run.options.hold
    clock.lap("read")
    previous = cache.recorded(str(output))
    statics = publish.static_files(config.source_dir("templates"))
    missing = publish.missing_outputs(cache, output, partial(cache.output_urls, str(output)))
    pages_missing = missing - statics.keys()
    # A missing variant (deleted by hand) is put back by a full build, which lists them all.
    if len(pages_missing) > MAX_MISSING or not publish.variants_in_place(cache, output):
        return None
    loaded = delta.load_pages(cache, pages_missing, edits)
    if loaded is None:
        return None
    pages, content = loaded
    clock.lap("plan")
    if hold is not None and hold(edits.problems):
        return replace(last, written=0, removed=0, problems=tuple(edits.problems), kept_plan=True)
    cache.start_build(str(output))
    done = publish.write_site(
        run,
        pages,
        content,
        known=True,
        previous=previous,
        interrupted=False,
        statics=statics,
        partial=True,
        mirror=state.mirror,
        missing=missing,
    )
    delta.remember_edits(cache, state.plan_key, edits)
    clock.lap("write")
    indexed = None
    if config.search:
        articles = delta.all_articles(cache, edits)
        indexed = publish.index_search(run, articles, output)
        clock.lap("search")
    else:
        search.remove_index(output)
    result = replace(
        last,
        written=done.written,
        removed=0,
        enriched=edits.enriched,
        problems=tuple(edits.problems),
        notes=tuple(n for n in last.notes if n == DRAFTS_NOTE),
        timings=tuple(clock.laps),
        search=indexed,
        kept_plan=True,
    )
    publish.finish(cache, run.folder, state.build_key, result, done)
    return result
