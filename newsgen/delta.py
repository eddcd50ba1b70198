"""Rebuild after a few edited files without planning the whole site again.

A full build plans every page from every article. An edit that leaves every article where it
was in the site (same headline, date, place, tags, slug, language...) leaves the plan as it
was, except for what the edited articles show: only the pages that show them can change. After
each full build this module records what it takes to prove that and to redo only those pages:
each article's shape (the fields planning reads), the URLs of the pages that show it, and every
page as planned, with articles named by path. `prepare` returns None whenever it cannot prove
the plan unchanged (a file added or removed, a headline or date changed, a duplicate involved,
settings or templates changed...), and the full build runs.
"""

from __future__ import annotations

import hashlib
import marshal
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, cast

from newsgen.cache import Cache, Enrichment, Placed, unpack
from newsgen.collect import (
    Collected,
    Pairing,
    Progress,
    Scan,
    Source,
    Unit,
    alone_unit,
    curated_unit_keys,
    enrich_units,
    pair,
    parse_curated_cached,
    seed_unit,
    unit_salt,
)
from newsgen.config import Config
from newsgen.plan import Link, Page, article_page, article_slug, page_fields
from newsgen.records import Article, Draft, Problem

MEMO = "delta"
# Beyond this many changed files a full build is as cheap, and its cost is easier to predict.
MAX_CHANGED = 500
# Every field of an article that planning, finalize's slugs, redirects and the URL registry
# read. The others (related images, image, body_key) only reach pages through rendering,
# whose page keys name the article's unit key. `order` is the position, kept by a rebuild.
PLANNED_FIELDS = (
    "id",
    "id_given",
    "path",
    "title",
    "slug",
    "slug_given",
    "lang",
    "dateline",
    "date",
    "published",
    "tags",
    "draft",
    "summary",  # related articles are found by the words of headlines and summaries
    "aliases",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Memo:
    """What the last build read, besides each source file's hash (which the cache keeps as
    a table, `Cache.remember_sources`, so that an edit rewrites one row, not the archive's):
    the curated pairing, and the problems that belong to no single article (finding files,
    pairing); and the id it gave each article identified by its file (newsgen.identity), by
    article path: the registry then records that file, so a build of the same files gives
    the same ids."""

    pairing: Pairing
    shared: tuple[Problem, ...]
    ids: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Shortcut:
    """A rebuild that replaces some articles and keeps the plan: the new articles (finalized,
    by path), every problem of the build, and the records to store once it is written (their
    rows name the pages that show the new articles)."""

    changed: dict[str, Article]
    problems: list[Problem]
    enriched: int
    placed: list[Placed]
    memo: Memo
    # The new hash of each changed source file, by path.
    sources: dict[str, str]

    @property
    def content(self) -> dict[str, str]:
        return {row.path: row.unit for row in self.placed}

    @property
    def urls(self) -> set[str]:
        """The listing pages that show a changed article."""
        return {url for row in self.placed for url in marshal.loads(row.urls)[0]}

    @property
    def around(self) -> set[str]:
        """The articles whose own page shows a changed article: its own, its neighbours',
        and those that list it as related."""
        return {
            p
            for row in self.placed
            if row.live
            for p in (row.path, row.prev, row.next, *marshal.loads(row.urls)[2])
            if p
        }


def shape(article: Article) -> str:
    values = tuple(getattr(article, name) for name in PLANNED_FIELDS)
    return hashlib.sha256(repr(values).encode()).hexdigest()[:32]


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in one order whichever way a build found them: by file, line and message."""
    return sorted(problems, key=lambda p: (p.path, p.line or 0, p.message, p.level))


# --- recording the plan of a full build ------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The plan of a full build as `remember` stores it. Its rows and listing pages are made
    as `store` writes them, so a plan can be stored once only: held whole, at 100,000
    articles they raised the build's peak by a tenth."""

    rows: Iterator[Placed]
    listings: Iterator[tuple[str, bytes]]
    memo: Memo
    # Every source file's hash, by path.
    sources: dict[str, str]


def record(
    found: Scan, collected: Collected, kept: Sequence[Article], pages: Sequence[Page]
) -> Plan:
    """The plan of a full build (articles `kept` by finalize, all `pages`), ready to store.
    An article's own page is not stored: its neighbours are, and `article_page` makes it."""
    shown: dict[str, list[str]] = {}
    around: dict[str, tuple[str, str]] = {}
    related: dict[str, tuple[str, ...]] = {}
    related_by: dict[str, list[str]] = {}
    for page in pages:
        if page.kind == "article" and page.article is not None:
            around[page.article.path] = (_path(page.prev) or "", _path(page.next) or "")
            related[page.article.path] = tuple(a.path for a in page.related)
            for other in page.related:
                related_by.setdefault(other.path, []).append(page.article.path)
            continue
        for article in page.articles:  # a page other than an article's shows no other
            shown.setdefault(article.path, []).append(page.url)
    slugs = {a.path: a.slug for a in kept}
    rows = (
        Placed(
            path=a.path,
            unit_order=collected.article_units[a.path],
            unit=collected.article_keys[a.path],
            body=a.body_key,
            position=a.order,
            slug=slugs.get(a.path, ""),
            live=int(a.path in around),
            prev=around.get(a.path, ("", ""))[0],
            next=around.get(a.path, ("", ""))[1],
            # The listings that show it, the articles its page lists as related, and the
            # articles whose pages list it.
            urls=marshal.dumps(
                (shown.get(a.path, []), related.get(a.path, ()), related_by.get(a.path, []))
            ),
        )
        for a in collected.articles
    )
    listings = (
        (page.url, pack_page(page))
        for page in pages
        if not (page.kind == "article" and page.article is not None)
    )
    memo = Memo(
        pairing=collected.pairing,
        shared=found.problems + collected.pairing.problems,
        ids={a.path: a.id for a in kept if a.path in collected.files},
    )
    sources = {s.path: s.sha for s in (*found.seeds, *found.curated)}
    return Plan(rows=rows, listings=listings, memo=memo, sources=sources)


def store(cache: Cache, plan: Plan) -> Memo:
    """Write the bulk of `plan` (a row per article and source file, every listing) to the
    cache at once, so that a build does not hold it, and return its memo for `remember`.
    Until then the stored plan is no one's: the last memo is forgotten."""
    cache.forget(MEMO)
    cache.set_plan(plan.rows, plan.listings)
    cache.remember_sources(plan.sources, whole=True)
    return plan.memo


def remember(cache: Cache, frame: str, memo: Memo) -> None:
    """Make the plan `store` wrote the next rebuild's, under `frame` (everything but the
    source files that the plan depends on)."""
    cache.remember(MEMO, frame, memo)


def remember_edits(cache: Cache, frame: str, edits: Shortcut) -> None:
    """Store what a rebuild by `prepare`'s shortcut changed in the plan."""
    cache.replace_placed(edits.placed)
    cache.remember(MEMO, frame, edits.memo)
    cache.remember_sources(edits.sources, whole=False)


# --- a rebuild -------------------------------------------------------------------------------


def prepare(
    config: Config,
    cache: Cache,
    found: Scan,
    frame: str,
    last_problems: Sequence[Problem],
    *,
    jobs: int,
    progress: Progress | None = None,
) -> Shortcut | None:
    """The rebuild when only some articles' content changed, or None when the plan may have
    changed (then a full build is needed)."""
    memo = cache.recall(MEMO, frame)
    if not isinstance(memo, Memo) or not found.complete():
        return None  # no plan on record, or a seed never seen before (it is unread)
    # Only a touched file can differ from the sources the plan was made from.
    touched = cache.touched()
    now = _sources((*found.seeds, *found.curated), touched)
    then = cache.remembered_sources(touched)
    if now.keys() != then.keys():
        return None  # a file added or removed
    changed = {path for path, source in now.items() if source.sha != then[path]}
    if not changed or len(changed) > MAX_CHANGED:
        return None
    problems = Counter(last_problems)
    problems.subtract(memo.shared)
    read = _curated(cache, found, memo, {path: then[path] for path in changed}, problems)
    if read is None:
        return None
    curated, pairing = read
    problems.update(found.problems + pairing.problems)
    units = _changed_units(config, found, curated, pairing, set(changed))
    rows = {row.unit_order: row for row in cache.placed("unit_order", (u.order for u in units))}
    packed = cache.articles(row.unit for row in rows.values())
    if len(rows) != len(units) or len(packed) != len(rows):
        return None  # an edited file made no article last time, or the cache lost it
    before = {
        row.unit_order: _unpack(packed[row.unit], row.position, memo.ids) for row in rows.values()
    }
    for _, old_problems in before.values():
        problems.subtract(old_problems)
    positions = {u.order: rows[u.order].position for u in units}
    cached = cache.articles(u.key for u in units)
    done = {
        u.order: _unpack(cached[u.key], positions[u.order], memo.ids)
        for u in units
        if u.key in cached
    }
    fresh = [u for u in units if u.order not in done]
    enriched = enrich_units(fresh, positions, config, cache, jobs=jobs, progress=progress)
    done.update((order, _identified(e, memo.ids)) for order, (_, e) in enriched.items())
    placed, articles = [], {}
    for unit in units:
        row, (article, unit_problems) = rows[unit.order], done[unit.order]
        if article is None or not _same_place(cache, row, before[unit.order][0], article):
            return None
        problems.update(unit_problems)
        articles[article.path] = _with_slug(article, row.slug)
        placed.append(row._replace(unit=unit.key, body=article.body_key))
    if len({row.body for row in placed}) < len(placed) or min(problems.values(), default=0) < 0:
        return None  # two edited articles with one text; or problems that do not add up
    return Shortcut(
        changed=articles,
        problems=sort_problems(problems.elements()),
        enriched=len(fresh),
        placed=placed,
        memo=Memo(pairing=pairing, shared=found.problems + pairing.problems, ids=memo.ids),
        sources={path: now[path].sha for path in changed},
    )


def _sources(sources: Iterable[Source], paths: Iterable[str]) -> dict[str, Source]:
    """The source files at `paths` (those still there), by path."""
    wanted = set(paths)
    return {s.path: s for s in sources if s.path in wanted}


def _unpack(value: object, position: int, ids: dict[str, str] | None = None) -> Enrichment:
    """A cached enrichment; with `ids`, its article identified as the last build did."""
    enrichment = unpack(cast(Any, value), position)
    return _identified(enrichment, ids) if ids else enrichment


def _identified(enrichment: Enrichment, ids: dict[str, str]) -> Enrichment:
    article, problems = enrichment
    if article is None or ids.get(article.path, article.id) == article.id:
        return enrichment
    return replace(article, id=ids[article.path]), problems


def _same_place(cache: Cache, row: Placed, old: Article | None, new: Article) -> bool:
    """Whether the new article takes the old one's place: the old one was kept by finalize
    (it has a slug), the shape is the same, and no other article has the old or the new
    body (finalize would skip one of them as a duplicate)."""
    if old is None or not row.slug or shape(new) != shape(old):
        return False
    others = cache.placed("body", {row.body, new.body_key})
    return all(other.path == row.path for other in others)


def _curated(
    cache: Cache, found: Scan, memo: Memo, changed: dict[str, str], problems: Counter[Problem]
) -> tuple[dict[str, Draft], Pairing] | None:
    """The curated drafts the changed units need, by path, and the pairing, which must be
    the last build's. `changed` has each changed file's hash in the last build. The parse
    problems of edited curated files are swapped in `problems`."""
    edited = [s for s in found.curated if s.path in changed]
    if not edited:
        wanted = {memo.pairing.pairs[p] for p in changed if p in memo.pairing.pairs}
        return _drafts(cache, found, [s for s in found.curated if s.path in wanted]), memo.pairing
    old_keys = curated_unit_keys([s._replace(sha=changed[s.path]) for s in edited])
    before = cache.units(old_keys.values())
    if len(before) != len(edited):
        return None  # the old parse is gone from the cache: its problems are unknown
    for value in before.values():
        problems.subtract(cast(tuple[object, list[Problem]], value)[1])
    after: list[Problem] = []
    _drafts(cache, found, edited, after)
    problems.update(after)
    pairs, alone, pairing = pair(found.seeds, _drafts(cache, found, found.curated).values())
    if (pairing.pairs, pairing.alone) != (memo.pairing.pairs, memo.pairing.alone):
        return None
    return {d.path: d for d in (*alone, *pairs.values())}, pairing


def _drafts(
    cache: Cache, scan: Scan, sources: Sequence[Source], problems: list[Problem] | None = None
) -> dict[str, Draft]:
    """Curated drafts of `sources`, parsed once per content, by path."""
    found: list[Problem] = []
    drafts = parse_curated_cached(sources, curated_unit_keys(sources), cache, found, scan.limit)
    by_path = {d.path: d for d in drafts}
    if problems is not None:
        problems += found
    return by_path


def _changed_units(
    config: Config, found: Scan, curated: dict[str, Draft], pairing: Pairing, changed: set[str]
) -> list[Unit]:
    """The units with a changed file: a seed (with the curated file over it, if any) or a
    curated article standing alone."""
    salt = unit_salt(config)
    seed_of = {curator: seed for seed, curator in pairing.pairs.items()}
    units = []
    for seed in _sources(found.seeds, {seed_of.get(path, path) for path in changed}).values():
        curator = pairing.pairs.get(seed.path)
        units.append(seed_unit(salt, seed, curated[curator] if curator else None))
    units += [alone_unit(salt, curated[path]) for path in pairing.alone if path in changed]
    return sorted(units, key=lambda u: u.order)


def load_pages(
    cache: Cache, urls: Iterable[str], shortcut: Shortcut
) -> tuple[list[Page], dict[str, str]] | None:
    """The pages that show a changed article, and the pages at `urls`, as last planned with
    the changed articles in them; and the unit key of every article they show. None when a
    page is not on record."""
    wanted = set(urls) | shortcut.urls
    listings = {url: marshal.loads(blob) for url, blob in cache.pages(wanted).items()}
    languages = _languages(cache)
    if languages is None:
        return None
    own = {row.path for row in cache.placed("slug", _slugs(wanted - listings.keys())) if row.live}
    if len(listings) + len(own) < len(wanted):
        return None
    own |= shortcut.around
    rows = {row.path: row for row in cache.placed("path", own)}
    if not own <= rows.keys():
        return None
    paths = {p for v in listings.values() for p in (v[5], v[6], v[7], *v[8]) if p is not None}
    related = {path: marshal.loads(row.urls)[1] for path, row in rows.items()}
    paths |= {p for row in rows.values() for p in (row.path, row.prev, row.next) if p}
    paths |= {p for shown in related.values() for p in shown}
    found = _articles(cache, paths, shortcut)
    if found is None:
        return None
    articles, content = found
    pages = [unpack_page(listings[url], articles) for url in sorted(listings)]
    for path in sorted(rows):
        row = rows[path]
        prev, next_ = articles.get(row.prev), articles.get(row.next)
        shown = tuple(articles[p] for p in related[path])
        page = article_page(articles[path], prev=prev, next=next_, related=shown)
        pages.append(replace(page, languages=languages))
    return pages, content


def _languages(cache: Cache) -> tuple[Link, ...] | None:
    """The languages every page's header links, as the front page has them (None: the
    front page is not on record)."""
    blob = cache.pages(["/"]).get("/")
    if blob is None:
        return None
    names = [name for name, _, _ in page_fields()]
    name, kind, record = page_fields()[names.index("languages")]
    return cast(
        tuple[Link, ...], _unpack_field(kind, record, marshal.loads(blob)[names.index(name)], {})
    )


def _slugs(urls: Iterable[str]) -> list[str]:
    """The slugs of the article pages among `urls` (others have none)."""
    return [slug for slug in map(article_slug, urls) if slug is not None]


def _articles(
    cache: Cache, paths: set[str], shortcut: Shortcut
) -> tuple[dict[str, Article], dict[str, str]] | None:
    """The articles at `paths` as last planned (the changed ones new), and their unit keys."""
    rows = cache.placed("path", paths - shortcut.changed.keys())
    packed = cache.articles(row.unit for row in rows)
    articles = dict(shortcut.changed)
    content = dict(shortcut.content)
    ids = shortcut.memo.ids
    for row in rows:
        article = _unpack(packed[row.unit], row.position, ids)[0] if row.unit in packed else None
        if article is None:
            return None
        articles[row.path] = _with_slug(article, row.slug)
        content[row.path] = row.unit
    return (articles, content) if paths <= articles.keys() else None


# --- pages as stored -------------------------------------------------------------------------


def pack_page(page: Page) -> bytes:
    """A page as plain values (see plan.page_fields): articles by path, records as tuples."""
    return marshal.dumps(tuple(_pack(kind, getattr(page, name)) for name, kind, _ in page_fields()))


def _pack(kind: str, value: Any) -> Any:
    if kind == "article":
        return _path(value)
    if kind == "articles":
        return tuple(a.path for a in value)
    if kind == "record":
        return None if value is None else _fields(value)
    if kind == "records":
        return tuple(_fields(r) for r in value)
    return value


def _fields(record: Any) -> tuple[Any, ...]:
    return tuple(getattr(record, f.name) for f in fields(record))


def _path(article: Article | None) -> str | None:
    return None if article is None else article.path


def unpack_page(values: tuple[Any, ...], articles: dict[str, Article]) -> Page:
    """The page `pack_page` packed (once marshal has loaded it), with each article path
    replaced from `articles`."""
    page = {
        name: _unpack_field(kind, record, value, articles)
        for (name, kind, record), value in zip(page_fields(), values, strict=True)
    }
    return Page(**page)


def _unpack_field(kind: str, record: type | None, value: Any, articles: dict[str, Article]) -> Any:
    if kind == "article":
        return None if value is None else articles[value]
    if kind == "articles":
        return tuple(articles[path] for path in value)
    if record is None:
        return value
    if kind == "record":
        return None if value is None else _record(record, value)
    return tuple(_record(record, v) for v in value)


def _record(record: type, values: tuple[Any, ...]) -> Any:
    return record(**dict(zip((f.name for f in fields(record)), values, strict=True)))


def all_articles(cache: Cache, shortcut: Shortcut) -> list[Article]:
    """Every article the last plan kept, in source order, the changed ones replaced (for
    the search index, which reads them all)."""
    changed, ids = shortcut.changed, shortcut.memo.ids
    rows = [row for row in cache.all_placed() if row.slug]
    packed = cache.articles(row.unit for row in rows if row.path not in changed)
    articles = []
    for row in rows:
        article = changed.get(row.path) or _unpack(packed[row.unit], row.position, ids)[0]
        assert article is not None
        articles.append(_with_slug(article, row.slug))
    return articles


def _with_slug(article: Article, slug: str) -> Article:
    return article if article.slug == slug else replace(article, slug=slug)
