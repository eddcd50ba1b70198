"""Load and enrich every input through the cache, on all cores.

Finds the source files, hashes them (reading only files whose size or mtime changed), pairs
curated articles with the seeds they curate, and enriches only the inputs the cache has not
seen. Returns articles in source order, not yet finalized.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from newsgen import __version__
from newsgen.cache import Cache
from newsgen.config import Config
from newsgen.enrich import Enriched, enrich
from newsgen.load import merge, pair_curated, parse_curated, parse_seed
from newsgen.parallel import run
from newsgen.records import Article, Draft, Problem

Progress = Callable[[str, int, int], None]
CachedUnit = tuple[Article | None, list[Problem]]
CachedDraft = tuple[Draft | None, list[Problem]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    path: str  # relative to the site, with forward slashes
    file: Path
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
    inputs: int
    enriched: int
    keys: list[str]


def collect(
    config: Config, cache: Cache, *, jobs: int, progress: Progress | None = None
) -> Collected:
    problems: list[Problem] = []
    known = cache.file_hashes()
    seeds = find_sources(config, "seeds", "*.txt", known, problems)
    curated_files = find_sources(config, "articles", "*.md", known, problems)
    cache.set_file_hashes((s.path, s.size, s.mtime_ns, s.sha) for s in (*seeds, *curated_files))
    curated_keys = {s.path: f"md:{__version__}:{s.path}:{s.sha}" for s in curated_files}
    curated = list(_parse_curated(curated_files, curated_keys, cache, problems))
    units = make_units(seeds, curated, config, problems)
    cached = cache.units(u.key for u in units)
    missing = [u for u in units if u.key not in cached]
    if missing:
        _preload_models()
    work = run(
        _enrich_unit,
        [(u, config.language, config.timezone) for u in missing],
        jobs=jobs,
        progress=progress and (lambda done: progress("reading", done, len(missing))),
    )
    for unit, (enriched, unit_problems) in zip(missing, work, strict=True):
        value = (enriched.article if enriched else None, unit_problems)
        cache.put_unit(
            unit.key,
            value,
            enriched.article.body_key if enriched else "",
            enriched.body_html if enriched else "",
        )
        cached[unit.key] = value
    articles: list[Article] = []
    for unit in units:
        article, unit_problems = cast(CachedUnit, cached[unit.key])
        problems += unit_problems
        if article is not None:
            articles.append(article)
    cache.commit()
    return Collected(
        articles=articles,
        problems=problems,
        inputs=len(seeds) + len(curated_files),
        enriched=len(missing),
        keys=[u.key for u in units] + list(curated_keys.values()),
    )


def find_sources(
    config: Config,
    folder: str,
    pattern: str,
    known: dict[str, tuple[int, int, str]],
    problems: list[Problem],
) -> list[Source]:
    """Files of one source folder, sorted by path, with their content hashes."""
    base = config.source_dir(folder)
    if not base.is_dir():
        return []
    root = config.root.resolve()
    sources: list[Source] = []
    for file in sorted(base.glob(pattern)):
        relative = _relative(file, root)
        if not file.resolve().is_relative_to(root):
            problems.append(
                Problem(
                    path=relative,
                    level="error",
                    message=(
                        "is a link to a file outside the site; skipped; copy the file in instead"
                    ),
                )
            )
            continue
        if not file.is_file():
            continue
        stat = file.stat()
        seen = known.get(relative)
        if seen and seen[:2] == (stat.st_size, stat.st_mtime_ns):
            sha = seen[2]
        else:
            sha = hashlib.sha256(file.read_bytes()).hexdigest()
        sources.append(
            Source(path=relative, file=file, sha=sha, size=stat.st_size, mtime_ns=stat.st_mtime_ns)
        )
    return sources


def _relative(file: Path, root: Path) -> str:
    try:
        return file.absolute().relative_to(root).as_posix()
    except ValueError:
        return file.as_posix()


def _parse_curated(
    sources: Sequence[Source], keys: dict[str, str], cache: Cache, problems: list[Problem]
) -> Iterator[Draft]:
    cached = cache.units(keys.values())
    for source in sources:
        key = keys[source.path]
        if key not in cached:
            cached[key] = parse_curated(source.path, source.file.read_bytes())
            cache.put_unit(key, cached[key], "", "")
        draft, found = cast(CachedDraft, cached[key])
        problems += found
        if draft is not None:
            yield draft


def make_units(
    seeds: Sequence[Source], curated: Sequence[Draft], config: Config, problems: list[Problem]
) -> list[Unit]:
    pairs, alone, found = pair_curated((s.path for s in seeds), curated)
    problems += found
    salt = f"{__version__}\0{config.language}\0{config.timezone}"
    units = [
        Unit(
            key=_key(salt, s.path, s.sha, repr(pairs.get(s.path))),
            order=s.path,
            seed=s,
            curated=pairs.get(s.path),
        )
        for s in seeds
    ]
    units += [Unit(key=_key(salt, "", repr(d)), order=d.path, seed=None, curated=d) for d in alone]
    return sorted(units, key=lambda u: u.order)


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def _enrich_unit(args: tuple[Unit, str, str]) -> tuple[Enriched | None, list[Problem]]:
    unit, language, timezone = args
    problems: list[Problem] = []
    draft = unit.curated
    if unit.seed is not None:
        seed, problems = parse_seed(unit.seed.path, unit.seed.file.read_bytes())
        if seed is None:
            return None, problems
        draft = merge(seed, unit.curated) if unit.curated else seed
    assert draft is not None
    enriched = enrich(draft, default_lang=language, timezone=timezone)
    return enriched, problems + list(enriched.problems)


def _preload_models() -> None:
    """Load the language model before workers fork, so they share one copy."""
    from newsgen.enrich import _identifier

    _identifier()
