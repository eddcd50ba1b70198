"""Load and enrich every input through the cache, on all cores.

Finds the source files, hashes them (reading only files whose size or mtime changed), pairs
curated articles with the seeds they curate, and enriches only the inputs the cache has not
seen. Returns articles in source order, not yet finalized.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import pickle
import re
import stat
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from pathlib import Path
from stat import S_ISREG
from time import time_ns
from typing import NamedTuple, cast

from newsgen import identity
from newsgen.cache import CODE, Cache, Enrichment, pack, pickled, unpack
from newsgen.config import MB, Config, site_relative
from newsgen.enrich import (
    detect_languages,
    enrich,
    preload_language_model,
    use_language_model,
)
from newsgen.load import (
    WEEKDAY_LANGUAGES,
    known_weekday_names,
    merge,
    pair_curated,
    parse_curated,
    parse_seed,
    use_weekday_names,
    weekday_names,
)
from newsgen.markup import stored_body
from newsgen.parallel import (
    MIN_PARALLEL,
    STATUS_FIELDS,
    Workers,
    newest_mtime,
    packed_statuses,
    run,
)
from newsgen.records import Article, Draft, Problem
from newsgen.write import folder_stamp, fs_clock, settled_stamp, write_atomic

Progress = Callable[[str, int, int], None]
CachedDraft = tuple[Draft | None, list[Problem]]
FileRow = tuple[str, int, int, str]  # path, size, mtime_ns, sha
# The hash of a seed its worker could not read (it could when it was scanned).
UNREAD = "!unread"
RACY_NS = 2_000_000_000
STATUS_BYTES = 8 * STATUS_FIELDS


class Source(NamedTuple):
    """A source file as a scan found it. A tuple, not a dataclass: a rescan of a million
    files makes a million of them, and a tuple is made in half the time."""

    path: str  # relative to the site, with forward slashes
    file: str
    sha: str
    size: int = 0
    mtime_ns: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Unit:
    """One article to enrich: a seed, a seed with the curated file over it, or a curated
    article on its own."""

    key: str
    order: str
    seed: Source | None
    curated: Draft | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Collected:
    articles: list[Article]
    problems: list[Problem]
    enriched: int
    keys: list[str]
    # Unit key by article path: an article's content is a pure function of its unit key.
    article_keys: dict[str, str]
    # The unit (its `order`) each article came from, by article path.
    article_units: dict[str, str]
    pairing: Pairing
    # The scan collected, with the hashes of the seeds it left unread: each source's path
    # and hash only (see `_paths_and_hashes`).
    found: Scan
    # The file that identifies each article identified by its file (see `identity_file`),
    # by article path.
    files: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Pairing:
    """Which seed each curated article curates (`pairs`, by seed path), which curated articles
    stand alone, and the problems pairing found. It depends on the set of seed paths and on
    each curated file's `source:` only."""

    pairs: dict[str, str]
    alone: tuple[str, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Scan:
    """The source files of a site, with their hashes, and the problems finding them."""

    seeds: tuple[Source, ...]
    curated: tuple[Source, ...]
    problems: tuple[Problem, ...]
    # The clock before any file was read: see `file_row`.
    read_since_ns: int
    # How much of a file is read (`max_file_mb`).
    limit: Limit
    # The mark of the listing scanned (see `Listing`).
    mark: str = ""
    # The blocks recorded before their seeds were read, as (mark, first source, end): see
    # `remember_state`.
    pending: tuple[tuple[str, int, int], ...] = ()

    def complete(self) -> bool:
        """Whether every file's hash is known (see `scan`)."""
        return all(source.sha for source in self.seeds)

    def state(self) -> str:
        """A hash of every input file's path and content ("" while a seed is unread)."""
        if not self.complete():
            return ""
        parts = [f"{source.path}\0{source.sha}\0" for source in (*self.seeds, *self.curated)]
        return hashlib.sha256("".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """A run of files listed one after the other (`start` to `stop` in the folder's
    entries) and its `mark`: a hash of their names, links and statuses."""

    mark: str
    start: int
    stop: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Listed:
    """One source folder's files, sorted by name, their statuses as
    `parallel.packed_statuses` packs them, and cut into blocks: a scan looks one by one
    only at the files of the blocks that the last scan did not list as they are (see
    `scan`). A block ends after a file whose name's CRC-32 ends in `CUT_BITS` zeros (or
    after `MAX_BLOCK` files): a file added or removed changes the block it falls in, not
    the cuts of the others."""

    prefix: str  # the folder, relative to the site, with a trailing slash
    names: list[str]
    files: list[str]  # the files' paths, as the build was told the folder
    links: bytes  # 1 for each name that is a symbolic link
    packed: bytes
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Listing:
    """The source folders as listed before a scan. Its `mark` is a hash of every name, link,
    status and inode number listed: a listing with the same mark as one scanned before has
    the same files with the same contents (as far as a file's size and mtime tell, as a
    scan trusts them), so the sources' state that scan found still holds (see
    `known_state`). The mark is "" when a file changed too recently for its mtime to be
    trusted (see `file_row`)."""

    seeds: Listed | None
    curated: Listed | None
    since: int
    mark: str


# 256 files to a block on average: a rebuild after one edit looks at 256 files one by one.
CUT_BITS = 8
MAX_BLOCK = 2048


def list_sources(config: Config, *, jobs: int = 1, cache: Cache | None = None) -> Listing:
    """List the source folders and stat their files (see `Listing`); a folder that has not
    changed since `cache` recorded its names is not listed again (see `_names`)."""
    since = time_ns()
    salt = _salt(config)
    seeds = _listed(config, "seeds", ".txt", jobs, salt, cache)
    curated = _listed(config, "articles", ".md", jobs, salt, cache)
    return Listing(
        seeds=seeds, curated=curated, since=since, mark=_mark(since, salt, seeds, curated)
    )


def _listed(
    config: Config, folder: str, suffix: str, jobs: int, salt: bytes, cache: Cache | None
) -> Listed | None:
    base = config.source_dir(folder)
    if not base.is_dir():
        return None
    prefix = site_relative(base, config.root.resolve()) + "/"
    names, links = _names(os.fspath(base), suffix, cache, prefix)
    head = os.path.join(base, "")
    files = [head + name for name in names]
    packed = packed_statuses(files, jobs)
    blocks = _blocks(salt, prefix, names, links, packed)
    return Listed(
        prefix=prefix, names=names, files=files, links=links, packed=packed, blocks=blocks
    )


def _names(base: str, suffix: str, cache: Cache | None, prefix: str) -> tuple[list[str], bytes]:
    """The names of the folder's files ending in `suffix`, sorted, and for each whether it
    is a link: as `cache` recorded them when the folder's times are those it had then (a
    name added, removed or renamed, a file made a link, change them), else listed now and
    recorded once the folder has settled (write.settled). At 1,000,000 files, listing and
    sorting took 1.9 s, reading them back 0.2 s.

    The file system's clock is read in the cache's folder (a source folder is the user's: no
    probe is made there), which tells for the source folders on the same device. (A file
    saved by renaming a new one over it changes its folder: at 1,000,000 seeds, the rebuild
    after the one that followed such a save listed them all again.)"""
    if cache is None:
        return _listed_names(base, suffix)
    clock = fs_clock(cache.path.parent)
    stamp = settled_stamp(base, clock)
    memo = f"names:{prefix}{suffix}"
    if stamp:
        known = cache.recall(memo, stamp)
        if isinstance(known, tuple) and len(known) == 2:
            text, links = known
            return (text.split("\0") if text else []), links
    names, links = _listed_names(base, suffix)
    # Listed after the clock was read: a change since gives another stamp.
    if stamp and folder_stamp(base, clock)[0] == stamp:
        cache.remember(memo, stamp, ("\0".join(names), links))
    return names, links


def _listed_names(base: str, suffix: str) -> tuple[list[str], bytes]:
    with os.scandir(base) as listed:
        entries = [e for e in listed if e.name.endswith(suffix) and not e.name.startswith(".")]
    entries.sort(key=attrgetter("name"))
    return [entry.name for entry in entries], bytes(map(os.DirEntry.is_symlink, entries))


def _salt(config: Config) -> bytes:
    """What decides a scan's result besides the files: the code, who reads (see
    `_readable`) and how much a file may hold."""
    reader = f"{os.geteuid()}\0{os.getegid()}\0{sorted(os.getgroups())}"
    return f"{CODE}\0{reader}\0{config.max_file_bytes}".encode()


def _blocks(
    salt: bytes, prefix: str, listed: list[str], links: bytes, packed: bytes
) -> tuple[Block, ...]:
    """The folder's files cut into blocks (see `Listed`), each with its mark."""
    joined = "\0".join(listed).encode("utf-8", "surrogateescape")
    names = joined.split(b"\0") if listed else []
    mask = (1 << CUT_BITS) - 1
    cuts = [i + 1 for i, crc in enumerate(map(zlib.crc32, names)) if not crc & mask]
    bounds: list[tuple[int, int]] = []
    start = 0
    for cut in [*cuts, len(names)]:
        while cut - start > MAX_BLOCK:
            bounds.append((start, start + MAX_BLOCK))
            start += MAX_BLOCK
        if cut > start:
            bounds.append((start, cut))
            start = cut
    head = salt + b"\0" + prefix.encode("utf-8", "surrogateescape")
    blocks = []
    for start, stop in bounds:
        digest = hashlib.sha256(head)
        digest.update(b"\0".join([b"", *names[start:stop]]))
        digest.update(links[start:stop])
        digest.update(packed[start * STATUS_BYTES : stop * STATUS_BYTES])
        blocks.append(Block(mark=digest.hexdigest(), start=start, stop=stop))
    return tuple(blocks)


def statuses_of(
    listed: Listed, start: int = 0, stop: int | None = None
) -> Iterator[tuple[str, str, int, int, int, int, int]]:
    """Each file listed (from `start` to `stop`): its name, path, whether it is a link, its
    mode, size, mtime and owner (mode -1: it had no status)."""
    stop = len(listed.names) if stop is None else stop
    values = array("q", listed.packed[start * STATUS_BYTES : stop * STATUS_BYTES])
    fields = (values[i::STATUS_FIELDS] for i in range(4))
    names, files = listed.names[start:stop], listed.files[start:stop]
    return zip(names, files, listed.links[start:stop], *fields, strict=True)


def _mark(since: int, salt: bytes, *folders: Listed | None) -> str:
    """See `Listing`: the hash of every block's mark (which hashes what decides the scan's
    result, a file's content aside)."""
    if any(f is not None and newest_mtime(f.packed) >= since - RACY_NS for f in folders):
        return ""
    digest = hashlib.sha256(salt)
    for folder in folders:
        if folder is None:
            digest.update(b"\0none")
            continue
        marks = "\0".join(block.mark for block in folder.blocks)
        head = f"\0{folder.prefix}\0{len(folder.names)}\0{marks}"
        digest.update(head.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def known_state(cache: Cache, listing: Listing) -> str:
    """The sources' state (see `Scan.state`) of the last scan of a listing with this mark, or
    "" when there was none."""
    state = cache.recall("scan", listing.mark) if listing.mark else None
    return state if isinstance(state, str) else ""


def remember_state(cache: Cache, found: Scan, state: str) -> None:
    """Remember `state`, the scan's `Scan.state()`, for its listing's mark (see
    `known_state`), when the scan found every file's content and no problem (a file skipped
    is reported again by scanning again); and the hashes of the blocks whose files the scan
    left unread, now that they are known (see `scan`)."""
    _settle(cache, found)
    if not (found.mark and state and not found.problems):
        return
    if not any(source.sha == UNREAD for source in found.seeds):
        cache.remember("scan", found.mark, state)


def _settle(cache: Cache, found: Scan) -> None:
    sources = (*found.seeds, *found.curated)
    for mark, start, stop in found.pending:
        shas = [source.sha for source in sources[start:stop]]
        if all(sha and sha != UNREAD for sha in shas):
            cache.settle_block(PENDING + mark, mark, "\n".join(shas))


def scan(config: Config, cache: Cache, *, jobs: int = 1, listing: Listing | None = None) -> Scan:
    """Find the source files (in `listing`, or listed now); read only those whose size or
    mtime changed since last time (on `jobs` cores, when there are many). A seed never seen
    before is not read here: its hash is "" until the worker that enriches it reads it
    (`collect`), so that a cold build reads each seed once, not twice. (Only a file removed
    and put back could have had a cached article; it is enriched again.)

    The cache records the blocks (see `Listed`) of the last scan's listing, each with its
    files' paths and, when each was read or known by a status this scan could trust, their
    hashes. A block listed with the same mark has the same files with the same statuses:
    their hashes are those recorded, which are also their rows' (the blocks are recorded
    with the rows, and replaced by each scan). Only the other blocks' files are looked at
    one by one, against their rows; a file that a block no longer listed holds, and that
    is not listed now, is gone. With no blocks recorded, every row is read."""
    listing = listing or list_sources(config, jobs=jobs, cache=cache)
    folders = [f for f in (listing.seeds, listing.curated) if f is not None]
    recorded = cache.block_marks()
    sizes = {b.mark: b.stop - b.start for f in folders for b in f.blocks if b.mark in recorded}
    # A block whose hashes do not add up (a damaged cache) is looked at like any other.
    kept = {m: shas for m, shas in cache.block_shas(sizes).items() if len(shas) == sizes[m]}
    looked = [
        f.prefix + name
        for f in folders
        for b in f.blocks
        if b.mark not in kept
        for name in f.names[b.start : b.stop]
        # A name not in UTF-8 is no source (see `_check_entry`), nor can it be looked up.
        if name.isascii() or not _SURROGATE.search(name)
    ]
    stale = recorded - kept.keys()
    known = cache.file_rows(looked) if recorded else cache.file_hashes()
    found = Found(kept=kept, known=known, since=listing.since)
    seeds = find_sources(config, listing.seeds, found, jobs=jobs, defer=True)
    curated = find_sources(config, listing.curated, found, jobs=jobs)
    listed = set(looked)
    gone = [*known, *(p for p in cache.block_paths(stale) if p not in listed and p not in known)]
    cache.update_file_hashes(found.changed, gone)  # `known` is left with the files gone
    cache.replace_blocks(stale, found.blocks)
    return Scan(
        seeds=tuple(seeds),
        curated=tuple(curated),
        problems=tuple(found.problems),
        read_since_ns=listing.since,
        limit=Limit.of(config),
        mark=listing.mark,
        pending=tuple(found.pending),
    )


def collect(
    config: Config,
    cache: Cache,
    found: Scan,
    *,
    jobs: int,
    progress: Progress | None = None,
    readers: Readers | None = None,
) -> Collected:
    """Every article of the scanned sources, enriching only what the cache has not seen
    (`readers`: see enrich_units)."""
    problems = list(found.problems)
    seeds, curated_files = found.seeds, found.curated
    curated_keys = curated_unit_keys(curated_files)
    curated = list(parse_curated_cached(curated_files, curated_keys, cache, problems, found.limit))
    units, pairing = make_units(seeds, curated, config)
    problems += pairing.problems
    positions = {u.order: i for i, u in enumerate(units)}
    done = _cached(cache, units, positions)
    missing = [u for u in units if u.order not in done]
    done.update(
        enrich_units(
            missing, positions, config, cache, jobs=jobs, progress=progress, readers=readers
        )
    )
    units = [done[u.order][0] for u in units]  # with the keys of the seeds read just now
    found = _paths_and_hashes(_record_hashes(cache, found, units))
    articles: list[Article] = []
    article_keys: dict[str, str] = {}
    article_units: dict[str, str] = {}
    files: dict[str, str] = {}
    for unit in units:
        article, unit_problems = done[unit.order][1]
        problems += unit_problems
        if article is not None:
            articles.append(article)
            article_keys[article.path] = unit.key
            article_units[article.path] = unit.order
            if file := identity_file(unit, article):
                files[article.path] = file
    cache.commit()
    return Collected(
        articles=articles,
        problems=problems,
        enriched=sum(1 for u in units if u.key in cache.enriched),
        keys=[u.key for u in units] + list(curated_keys.values()),
        article_keys=article_keys,
        article_units=article_units,
        pairing=pairing,
        found=found,
        files=files,
    )


def identity_file(unit: Unit, article: Article) -> str:
    """The file that identifies the unit's article: the seed, when its name does not carry
    the id; a curated article standing alone; "" when the name or `id:` gives the id."""
    if article.id_given:
        return ""
    if unit.seed is None:
        return unit.order
    return "" if identity.named(unit.seed.path) else unit.seed.path


def by_file(unit: Unit, draft: Draft) -> bool:
    """Whether the unit's article will be identified by its file (see `identity_file`)."""
    if draft.meta.id is not None:
        return False
    return unit.seed is None or not identity.named(unit.seed.path)


def _paths_and_hashes(found: Scan) -> Scan:
    """`found` with only what is needed once its files are read: each source's path and
    hash. (With each article sharing its path, see `unpack`: 29 of the 291 MB of objects
    this process held at the plan's end with 100,000 seeds.)"""
    return replace(
        found,
        seeds=tuple(Source(s.path, "", s.sha) for s in found.seeds),
        curated=tuple(Source(s.path, "", s.sha) for s in found.curated),
    )


def _record_hashes(cache: Cache, found: Scan, units: Sequence[Unit]) -> Scan:
    """`found` with the hashes of the seeds it left unread, and of those that a worker could
    not read, which are now remembered."""
    seeds = {u.seed.path: u.seed for u in units if u.seed is not None}
    again = {s.path for s in found.seeds if not s.sha or seeds[s.path].sha == UNREAD}
    if not again:
        return found
    hashed = replace(
        found, seeds=tuple(seeds[s.path] if s.path in again else s for s in found.seeds)
    )
    rows = [file_row(s, found.read_since_ns) for s in hashed.seeds if s.path in again]
    cache.update_file_hashes(rows, ())
    if any(seeds[path].sha == UNREAD for path in again):
        # Its hash may have come from a block kept by the scan, which would give it again
        # (unread, unmarked touched): with no blocks, the next scan reads every row.
        cache.replace_blocks(cache.block_marks(), [])
    return hashed


def enrich_units(
    units: Sequence[Unit],
    positions: dict[str, int],
    config: Config,
    cache: Cache,
    *,
    jobs: int,
    progress: Progress | None = None,
    readers: Readers | None = None,
) -> dict[str, tuple[Unit, Enrichment]]:
    """Enrich `units` (each at `positions[unit.order]` in source order) on all cores, and
    store each result in the cache. By unit order: the unit, with its key (a seed that `scan`
    left unread gets it from the hash its worker read), and its enrichment. `readers`, read
    workers forked before the scan (see read_workers), read them when there are many; they
    are closed once done."""
    if not units:
        return {}
    parallel = jobs > 1 and len(units) >= MIN_PARALLEL
    done: dict[str, tuple[Unit, Enrichment]] = {}
    salt = unit_salt(config)
    batches = [(i, min(i + BATCH, len(units))) for i in range(0, len(units), BATCH)]
    shown: Callable[[int], None] | None = None
    if progress:
        shown = lambda n: progress("reading", batches[n - 1][1], len(units))  # noqa: E731
    work: Iterable[list[Enriched]]
    if readers is not None and parallel:
        weekdays = readers.weekdays
        work = readers.pool.map([tuple(units[start:end]) for start, end in batches], progress=shown)
    else:
        few = len(units) < MIN_PARALLEL
        enricher = _enricher(units, config, cache, parallel=parallel, few=few)
        weekdays = _recall_weekdays(cache, parallel=parallel)
        work = run(enricher.batch, batches, jobs=jobs, chunk=1, size=len(units), progress=shown)
    results = (result for batch in work for result in batch)
    for unit, (sha, blob, body, sample) in zip(units, results, strict=True):
        if sha:
            assert unit.seed is not None
            # A seed that its worker could not read is read again by the next scan.
            size = -1 if sha == UNREAD else unit.seed.size
            unit = seed_unit(salt, unit.seed._replace(sha=sha, size=size), unit.curated)
        enrichment = unpack(pickle.loads(blob), positions[unit.order], unit.order)
        done[unit.order] = unit, enrichment
        article = enrichment[0]
        cache.put_article(unit.key, blob, article.body_key if article else "", body)
        if article and sample:
            cache.put_language(sample, article.lang)
    if readers is not None:
        readers.close()  # their memory is not the plan's
    if weekdays is None and (names := known_weekday_names()) is not None:
        with contextlib.suppress(OSError):
            write_atomic(_weekdays_file(cache), json.dumps(sorted(names)).encode())
    return done


def _enricher(
    units: Sequence[Unit], config: Config, cache: Cache, *, parallel: bool, few: bool
) -> Enricher:
    return Enricher(
        units=units,
        language=config.language,
        timezone=config.timezone,
        known=_prepare_languages(cache, parallel=parallel, few=few),
        limit=Limit.of(config),
    )


@dataclass(frozen=True, slots=True)
class Readers:
    """Read workers forked before the scan (see read_workers), and the weekday names an
    earlier build kept, as `_recall_weekdays` found them then."""

    pool: Workers
    weekdays: frozenset[str] | None

    def close(self) -> None:
        self.pool.close()


def read_workers(config: Config, cache: Cache, *, jobs: int, sources: int) -> Readers | None:
    """Workers forked now, before the scan, to read the articles of a first build (a cache
    that holds none: every one is read), when there are many (`sources`, the seeds listed)
    and more than one core; else None. Forked at the read, each inherited the scan and the
    units and copied most of the pages they lie on as it went: 610 and 589 MB, 468 and 447
    of them private, at 1,000,000 articles. These are sent their units pickled instead, and
    share the language model and the weekday names, loaded before they fork."""
    if jobs <= 1 or sources < MIN_PARALLEL or cache.holds_units():
        return None
    enricher = _enricher((), config, cache, parallel=True, few=False)
    weekdays = _recall_weekdays(cache, parallel=True)
    return Readers(Workers(enricher.each, jobs), weekdays)


def _weekdays_file(cache: Cache) -> Path:
    """Where the weekday names are kept: beside the language model's copy (once per user),
    named by Babel's version, whose data they come from."""
    from babel import __version__ as babel_version

    from newsgen import langmodel

    name = f"weekdays-{babel_version}-{'-'.join(WEEKDAY_LANGUAGES)}.json"
    return langmodel.copy_folder(cache.path.parent) / name


def _recall_weekdays(cache: Cache, *, parallel: bool) -> frozenset[str] | None:
    """The weekday names an earlier build kept, now in use; before forking workers, the
    names in any case, so that they share them."""
    with contextlib.suppress(OSError, ValueError, TypeError):
        names = frozenset(str(n) for n in json.loads(_weekdays_file(cache).read_bytes()))
        use_weekday_names(names)
        return names
    if parallel:
        weekday_names()
    return None


def curated_unit_keys(sources: Sequence[Source]) -> dict[str, str]:
    """The cache key of each curated file's parse, by path."""
    return {s.path: f"md:{CODE}:{s.path}:{s.sha}" for s in sources}


def _cached(
    cache: Cache, units: Sequence[Unit], positions: dict[str, int]
) -> dict[str, tuple[Unit, Enrichment]]:
    """Cached enrichments by unit order; a row that no longer fits the records is a miss."""
    keyed = {u.key: u for u in units if u.key}
    found = {}
    for key, value in cache.articles(keyed).items():
        unit = keyed[key]
        with contextlib.suppress(TypeError, ValueError, KeyError):
            found[unit.order] = unit, unpack(value, positions[unit.order], unit.order)
    return found


# The mark under which a scan records a block whose hashes it cannot vouch for (yet).
PENDING = "~"


@dataclass(slots=True, kw_only=True)
class Found:
    """What a scan finds folder by folder (see `find_sources`): the hashes of the blocks
    listed as the last scan recorded them (`kept`, by mark), the rows of the other files
    (`known`, by path), the clock before the listing (`since`, see `file_row`); and what it
    gathers: problems, the rows that changed, the blocks to record as (mark, paths,
    hashes), and those to settle once their seeds are read, as (mark, first source, end)."""

    kept: dict[str, list[str]]
    known: dict[str, FileRow]
    since: int
    count: int = 0  # the sources found in the folders before
    problems: list[Problem] = field(default_factory=list)
    changed: list[FileRow] = field(default_factory=list)
    blocks: list[tuple[str, str, str]] = field(default_factory=list)
    pending: list[tuple[str, int, int]] = field(default_factory=list)


def find_sources(
    config: Config, listed: Listed | None, found: Found, *, jobs: int = 1, defer: bool = False
) -> list[Source]:
    """The files of one source folder as listed, with their content hashes. A file of a block
    that `found.kept` holds takes its hash from there. Any other is read only when its size or
    modification time differs from `found.known` (its row, by path); its row is then added
    to `found.changed`. With `defer`, a file `found.known` lacks is not read: its hash is
    "". A file that cannot be read as one (see `unreadable`) is skipped with a problem.
    Each file found is taken out of `found.known`, which is left with the files that are
    gone (or can no longer be read)."""
    if listed is None:
        return []
    sources: list[Source | None] = []
    unread: list[int] = []  # positions in `sources` of the files to hash
    files: list[str] = []
    # Each block with where its files start in `sources`, and whether their statuses can
    # be trusted (None: it was kept).
    spans: list[tuple[Block, int, bool | None]] = []
    for block in listed.blocks:
        shas = found.kept.get(block.mark)
        spans.append((block, len(sources), None if shas else True))
        if shas:
            sources += _kept(listed, block, shas)
        elif not _look(config, listed, block, found, sources, unread, files, defer=defer):
            spans[-1] = (block, spans[-1][1], False)
    for i, hashed in zip(unread, list(run(Limit.of(config).hash, files, jobs=jobs)), strict=True):
        source = sources[i]
        assert source is not None
        if isinstance(hashed, Unreadable):
            found.problems.append(_skipped(source.path, hashed.why))
            sources[i] = None
            continue
        sources[i] = source = source._replace(sha=hashed)
        found.changed.append(file_row(source, found.since))
        found.known.pop(source.path, None)
    return _record_blocks(listed, sources, spans, found)


def _kept(listed: Listed, block: Block, shas: list[str]) -> Iterator[Source]:
    """The sources of a block kept (see `scan`), with their hashes `shas`."""
    start, stop = block.start, block.stop
    values = array("q", listed.packed[start * STATUS_BYTES : stop * STATUS_BYTES])
    paths = [listed.prefix + name for name in listed.names[start:stop]]
    sizes, mtimes = values[1::STATUS_FIELDS], values[2::STATUS_FIELDS]
    return map(Source, paths, listed.files[start:stop], shas, sizes, mtimes)


def _look(
    config: Config,
    listed: Listed,
    block: Block,
    found: Found,
    sources: list[Source | None],
    unread: list[int],
    files: list[str],
    *,
    defer: bool,
) -> bool:
    """Look at the files of `block` one by one (see `find_sources`), adding them to
    `sources` (and those to read to `unread` and `files`); whether a later scan could trust
    their statuses (none was racy, skipped or a link)."""
    prefix, known = listed.prefix, found.known
    limit, uid, racy = config.max_file_bytes, os.geteuid(), found.since - RACY_NS
    trusted = True
    for name, path, link, mode, size, mtime, owner in statuses_of(listed, block.start, block.stop):
        relative = prefix + name
        # What nearly every source is, checked inline (`_check_entry` does the rest): with
        # 100,000 files, the checks as functions took more time than the stat calls. A
        # regular file under the size limit that this process may read (see `_readable`),
        # with an ASCII name, no link.
        if not (
            mode >= 0
            and S_ISREG(mode)
            and size <= limit
            and (mode & 0o444 == 0o444 or (mode & 0o400 and owner == uid))
            and name.isascii()
            and not link
        ):
            checked = _check_entry(name, path, bool(link), config, limit)
            if isinstance(checked, str):
                trusted = False
                found.problems.append(_skipped(_printable(relative), checked))
                continue
            # A file that passed has the status listed (both through a link), but a link's
            # target is not named in the block's mark: a block with a link is looked at.
            trusted = trusted and not link
            size, mtime = checked.st_size, checked.st_mtime_ns
        trusted = trusted and mtime < racy
        seen = known.get(relative)
        if seen and seen[1] == size and seen[2] == mtime:
            sha = seen[3]
            del known[relative]
        else:
            sha = ""
            if seen or not defer:
                unread.append(len(sources))
                files.append(path)
        sources.append(Source(relative, path, sha, size, mtime))
    return trusted


def _record_blocks(
    listed: Listed,
    sources: list[Source | None],
    spans: list[tuple[Block, int, bool | None]],
    found: Found,
) -> list[Source]:
    """The sources found (those skipped left out); the blocks looked at are added to
    `found.blocks` (and to `found.pending` when their seeds are yet to be read)."""
    kept: list[Source] = []
    ends = [start for _, start, _ in spans[1:]] + ([len(sources)] if spans else [])
    for (block, start, trusted), end in zip(spans, ends, strict=True):
        if trusted is None:  # a block kept: none of its files was skipped
            kept += cast(list[Source], sources[start:end])
            continue
        here = [source for source in sources[start:end] if source is not None]
        first = found.count + len(kept)
        kept += here
        # A file skipped was no source, and what becomes of it changes no row.
        paths = "\0".join(source.path for source in here)
        shas = [source.sha for source in here]
        whole = len(here) == block.stop - block.start
        if trusted and whole and all(shas):
            found.blocks.append((block.mark, paths, "\n".join(shas)))
            continue
        found.blocks.append((PENDING + block.mark, paths, ""))
        if trusted and whole:
            found.pending.append((block.mark, first, first + len(here)))
    found.count += len(kept)
    return kept


def _check_entry(
    name: str, path: str, link: bool, config: Config, limit: int
) -> os.stat_result | str:
    """The status of the file at `path` (a `link` or not), or why it is skipped: checked
    before any file is opened, so that no pipe or device is ever read (a read from either
    can wait for ever)."""
    if not name.isascii() and _SURROGATE.search(name):
        return "file name is not UTF-8; skipped; rename the file"
    try:
        status = os.stat(path)  # through a symlink: what it points to
    except OSError as exc:
        return _link_problem(exc) if link else unreadable(exc)
    root = config.root.resolve()
    if link and not Path(os.path.realpath(path)).is_relative_to(root):
        return "is a link to a file outside the site; skipped; copy the file in instead"
    if not stat.S_ISREG(status.st_mode):
        return not_regular(status.st_mode)
    if status.st_size > limit:
        return too_big(status.st_size, config.max_file_mb)
    if not _readable(path, status):
        return unreadable(PermissionError(errno.EACCES, os.strerror(errno.EACCES)))
    return status


def _readable(path: str, status: os.stat_result) -> bool:
    """Whether this process may read the file. A file that all may read, or that its owner
    may read when the owner runs this, is not asked about: asking took a quarter of the
    scan of an unchanged site. (A file that still cannot be read is reported when read.)"""
    mode = status.st_mode
    if mode & 0o444 == 0o444 or (mode & stat.S_IRUSR and status.st_uid == os.geteuid()):
        return True
    return os.access(path, os.R_OK, effective_ids=_EFFECTIVE_IDS)


# os.access judges by the real user, unless the platform can judge by the effective one.
_EFFECTIVE_IDS = os.access in os.supports_effective_ids
_SURROGATE = re.compile("[\ud800-\udfff]")
_KINDS = {
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFDIR: "a folder",
}


class Unreadable(Exception):
    """A source file that cannot be read as one: `why` says so, to follow its name."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _link_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop; skipped; point the link at a file, or delete it"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return "symlink to nothing; skipped; point the link at a file, or delete it"
    return unreadable(exc)


def unreadable(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "not readable (permission denied); skipped; check its permissions"
    reason = (exc.strerror or type(exc).__name__).lower()
    return f"not readable ({reason}); skipped"


def not_regular(mode: int) -> str:
    kind = _KINDS.get(stat.S_IFMT(mode), "a special file")
    return f"not a regular file ({kind}); skipped; only regular files are read"


def too_big(size: int, mb: float) -> str:
    return (
        f"{size / MB:.3g} MB, over max_file_mb ({mb:g}); skipped; split the file, or raise "
        "max_file_mb in newsgen.yaml"
    )


def _skipped(path: str, why: str) -> Problem:
    return Problem(path=path, level="error", message=why)


def _printable(path: str) -> str:
    """A path as a message can show it: bytes that are not UTF-8 as escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def read_source(path: str, limit: int | None = None, mb: float = 0) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (`mb` megabytes, as the setting
    says). Opened without blocking and checked once open, since the file may have been
    replaced by a pipe since it was listed; raises Unreadable."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise Unreadable(unreadable(exc)) from exc
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise Unreadable(not_regular(status.st_mode))
        if limit is not None and status.st_size > limit:
            raise Unreadable(too_big(status.st_size, mb))
        with open(descriptor, "rb", closefd=False) as handle:
            data = handle.read() if limit is None else handle.read(limit + 1)
    except OSError as exc:
        raise Unreadable(unreadable(exc)) from exc
    finally:
        os.close(descriptor)
    if limit is not None and len(data) > limit:
        raise Unreadable(too_big(len(data), mb))
    return data


def file_row(source: Source, read_since_ns: int) -> FileRow:
    """The row that remembers a file's hash by its size and mtime. A file changed again
    within the clock's resolution of its read could keep its size and mtime: recorded with
    no size, it is read again next time (as git does with "racily clean" files).
    `read_since_ns` is the clock before the file was read, not when the row is recorded:
    a seed's worker may read it long before enrichment ends, and the edits to fear are
    those right after the read."""
    racy = source.mtime_ns >= read_since_ns - RACY_NS
    return (source.path, -1 if racy else source.size, source.mtime_ns, source.sha)


def parse_curated_cached(
    sources: Sequence[Source],
    keys: dict[str, str],
    cache: Cache,
    problems: list[Problem],
    limit: Limit,
) -> Iterator[Draft]:
    """The drafts of the curated files, parsed once per content (`keys`, by path). A file
    that cannot be read now (it could when it was scanned) is a problem, not remembered."""
    cached = cache.units(keys.values())
    for source in sources:
        key = keys[source.path]
        if key not in cached:
            try:
                data = limit.read(source.file)
            except Unreadable as exc:
                problems.append(_skipped(source.path, exc.why))
                continue
            cached[key] = parse_curated(source.path, data)
            cache.put_unit(key, cached[key], "", "")
        draft, found = cast(CachedDraft, cached[key])
        problems += found
        if draft is not None:
            yield draft


def make_units(
    seeds: Sequence[Source], curated: Sequence[Draft], config: Config
) -> tuple[list[Unit], Pairing]:
    """The units to enrich, in source order, and how curated articles were paired."""
    pairs, alone, pairing = pair(seeds, curated)
    salt = unit_salt(config)
    units = [seed_unit(salt, s, pairs.get(s.path)) for s in seeds]
    units += [alone_unit(salt, d) for d in alone]
    return sorted(units, key=lambda u: u.order), pairing


def pair(
    seeds: Sequence[Source], curated: Iterable[Draft]
) -> tuple[dict[str, Draft], list[Draft], Pairing]:
    """`pair_curated` over the seeds, and its result as the paths a `Pairing` records."""
    pairs, alone, found = pair_curated((s.path for s in seeds), curated)
    pairing = Pairing(
        pairs={seed: draft.path for seed, draft in sorted(pairs.items())},
        alone=tuple(d.path for d in alone),
        problems=tuple(found),
    )
    return pairs, alone, pairing


def unit_salt(config: Config) -> str:
    return f"{CODE}\0{config.language}\0{config.timezone}"


def seed_unit(salt: str, seed: Source, curated: Draft | None) -> Unit:
    """A seed's unit; one that `scan` left unread has no key until its worker reads it."""
    return Unit(
        key=_key(salt, seed.path, seed.sha, repr(curated)) if seed.sha else "",
        order=seed.path,
        seed=seed,
        curated=curated,
    )


def alone_unit(salt: str, draft: Draft) -> Unit:
    return Unit(key=_key(salt, draft.path, repr(draft)), order=draft.path, seed=None, curated=draft)


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


# Units a worker enriches per task. Each result wakes the parent's result thread and then
# its main thread: at 32 units a task, that cost the parent a third of a second of a 10k build.
BATCH = 128
# Texts whose languages are detected together (see langmodel.classify_all): 32 short texts
# cost little more than 16, and groups of 64 to 256 cost more per text than 32.
LANGUAGE_GROUP = 32


Enriched = tuple[str, bytes, str, str]


@dataclass(frozen=True, slots=True)
class Limit:
    """`max_file_mb` of the build: a file that grew past it after it was listed is not read
    whole either."""

    max_bytes: int | None
    max_mb: float

    @classmethod
    def of(cls, config: Config) -> Limit:
        return cls(config.max_file_bytes, config.max_file_mb)

    def read(self, file: str) -> bytes:
        """A source file's bytes, within the limit."""
        return read_source(file, self.max_bytes, self.max_mb)

    def hash(self, file: str) -> str | Unreadable:
        try:
            return hashlib.sha256(self.read(file)).hexdigest()
        except Unreadable as exc:
            return exc


@dataclass(frozen=True, slots=True, kw_only=True)
class Enricher:
    """What the workers that enrich need. Made before they fork, so that they inherit it: a
    task is then a span of `units`, not pickled units. `known` are the languages earlier
    builds detected, by sample key."""

    units: Sequence[Unit]
    language: str
    timezone: str
    known: Mapping[str, str]
    limit: Limit

    def batch(self, span: tuple[int, int]) -> list[Enriched]:
        """Units `span[0]` to `span[1]` (see `each`)."""
        return self.each([self.units[i] for i in range(*span)])

    def each(self, units: Sequence[Unit]) -> list[Enriched]:
        """Each unit as the hash of its seed when `scan` left it unread (else ""), its
        packed enrichment (pickled here, in parallel: the parent stores it as it is and
        unpacks it as it does cached rows), body HTML and language sample."""
        parsed = [self.draft(unit) for unit in units]
        drafts = [draft for _, draft, _ in parsed if draft is not None]
        languages: dict[str, str] = {}
        for start in range(0, len(drafts), LANGUAGE_GROUP):
            group = drafts[start : start + LANGUAGE_GROUP]
            languages.update(detect_languages(group, self.language, self.known))
        return [
            self.enriched(sha, draft, problems, languages, unit)
            for unit, (sha, draft, problems) in zip(units, parsed, strict=True)
        ]

    def draft(self, unit: Unit) -> tuple[str, Draft | None, list[Problem]]:
        """The unit's seed parsed, with the curated file over it; and the seed's hash, when
        `scan` left it unread."""
        if unit.seed is None:
            assert unit.curated is not None
            return "", unit.curated, []
        try:
            data = self.limit.read(unit.seed.file)
        except Unreadable as exc:
            return UNREAD, None, [_skipped(unit.seed.path, exc.why)]
        sha = "" if unit.seed.sha else hashlib.sha256(data).hexdigest()
        seed, problems = parse_seed(unit.seed.path, data)
        if seed is None:
            return sha, None, problems
        return sha, (merge(seed, unit.curated) if unit.curated else seed), problems

    def enriched(
        self,
        sha: str,
        draft: Draft | None,
        problems: list[Problem],
        languages: Mapping[str, str],
        unit: Unit,
    ) -> Enriched:
        if draft is None:
            return sha, pickled(pack((None, problems))), "", ""
        enriched = enrich(
            draft, default_lang=self.language, timezone=self.timezone, languages=languages
        )
        article = enriched.article
        if by_file(unit, draft):
            article = replace(article, sketch=identity.sketch("\n".join(draft.blocks)))
        packed = pack((article, problems + list(enriched.problems)))
        return (
            sha,
            pickled(packed),
            stored_body(enriched.body_html, article.related),
            enriched.sample,
        )


def _prepare_languages(cache: Cache, *, parallel: bool, few: bool) -> Mapping[str, str]:
    """Earlier detections (for `few` articles, looked up one by one); the model is loaded
    only when a text needs it, except before forking workers, which then share one copy."""
    from newsgen import langmodel

    use_language_model(functools.partial(langmodel.load, langmodel.copy_folder(cache.path.parent)))
    if parallel:
        preload_language_model()
    return cache.language_lookup() if few else cache.languages()
