"""Stage 3, plan: articles become the complete list of pages.

Pure and fast: no files, no Jinja. This is the only module that knows the URL scheme. Every
listing is built in one pass over the articles, then sliced into pages, so the cost stays linear
in the size of the archive.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from newsgen.records import Article

# The article URL rule is the slug's (enrichment names URLs in its messages); the plan
# hands it on with every other URL.
from newsgen.slugs import article_slug as article_slug
from newsgen.slugs import article_url as article_url
from newsgen.slugs import make_slug

SITEMAP_LIMIT = 50_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """A link in a list or a breadcrumb trail. `localize` says that `label` is not a name to
    show as written but an interface string key ("archive") or a month ("2012-07"), which the
    template puts in the reader's language."""

    url: str
    label: str
    count: int = 0
    localize: bool = False


HOME = Link(url="/", label="home", localize=True)
ARCHIVE = Link(url="/archive/", label="archive", localize=True)
UNDATED = Link(url="/archive/undated/", label="undated", localize=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pager:
    number: int
    count: int
    prev: str | None
    next: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirect:
    """An old URL (`source`, decoded; `href`, percent-encoded) that now lives at `target`."""

    source: str
    href: str
    target: str
    title: str
    lang: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """One file of the site: where it goes, which template draws it, and with what."""

    url: str
    template: str
    title: str = ""
    lang: str = ""
    kind: str = ""
    article: Article | None = None
    prev: Article | None = None
    next: Article | None = None
    articles: tuple[Article, ...] = ()
    pager: Pager | None = None
    crumbs: tuple[Link, ...] = ()
    groups: tuple[Link, ...] = ()
    feed: str | None = None
    urls: tuple[str, ...] = ()
    redirects: tuple[Redirect, ...] = ()


# What a field of Page holds, for the code that stores pages and keys them (newsgen.delta,
# newsgen.publish): an Article or None, a tuple of Articles, a record (Pager, Link, Redirect)
# or None, a tuple of records, or plain values (text, numbers, tuples of text).
FieldKind = tuple[str, str, type | None]


@functools.cache
def page_fields() -> tuple[FieldKind, ...]:
    """Each field of Page, in order: (name, kind, record type)."""
    hints = typing.get_type_hints(Page)
    return tuple((f.name, *_kind(hints[f.name])) for f in dataclasses.fields(Page))


def _kind(hint: object) -> tuple[str, type | None]:
    args = [a for a in typing.get_args(hint) if a is not type(None) and a is not Ellipsis]
    many = typing.get_origin(hint) is tuple
    inner = args[0] if len(args) == 1 else hint
    if inner is Article:
        return ("articles" if many else "article"), None
    if isinstance(inner, type) and dataclasses.is_dataclass(inner):
        return ("records" if many else "record"), inner
    return "plain", None


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """What planning needs from the configuration."""

    per_page: int = 20
    feed_size: int = 50
    language: str = "en"
    drafts: bool = False  # preview: drafts are planned like published articles
    search: bool = True  # the /search/ page


# --- URLs -----------------------------------------------------------------------------------


def group_url(names: str, slug: str) -> str:
    """The listing of a place or tag (`names`: "places" or "tags") by its slug."""
    return f"/{names}/{slug}/"


def feed_url(listing: str) -> str:
    return f"{listing}feed.xml"


def feed_listing(feed: str) -> str:
    """The listing whose articles the feed at `feed` carries."""
    return feed.removesuffix("feed.xml")


# Pages there is one of, by the name templates ask for them (see `url_for`).
NAMED = {
    "home": "/",
    "archive": "/archive/",
    "undated": "/archive/undated/",
    "places": "/places/",
    "tags": "/tags/",
    "search": "/search/",
    "feed": "/feed.xml",
    "sitemap": "/sitemap.xml",
    "pagefind": "/pagefind/",
}


def url_for(kind: str, value: str | Article | None = None) -> str:
    """The site URL of a page, for templates: `url_for("archive")`, `url_for("article",
    article)`, `url_for("place", "Bruxelles")`, `url_for("tag", name)` ("" when the name
    gives no slug: no page lists it), `url_for("listing", feed_url)`."""
    if kind == "article" and isinstance(value, Article):
        return article_url(value.slug)
    if kind in ("place", "tag") and isinstance(value, str):
        slug = group_slug(value)
        return group_url(f"{kind}s", slug) if slug else ""
    if kind == "listing" and isinstance(value, str):
        return feed_listing(value)
    if kind in NAMED and value is None:
        return NAMED[kind]
    raise ValueError(f"url_for({kind!r}, {value!r}): no such page; see docs/themes.md")


@functools.lru_cache(maxsize=4096)
def group_slug(name: str) -> str:
    """Slugs of tags and places, which every article page links to: each slugified once."""
    return make_slug(name)


def page_url(base: str, number: int) -> str:
    return base if number == 1 else f"{base}page/{number}/"


def url_to_path(url: str) -> str:
    """Site URL to the file that serves it: `/a/` → `a/index.html`, `/feed.xml` → `feed.xml`."""
    path = url.lstrip("/")
    return path + "index.html" if path.endswith("/") or not path else path


# --- ordering and grouping ------------------------------------------------------------------


def newest_first(articles: Iterable[Article]) -> list[Article]:
    """Dated articles newest first, then undated ones in source order."""

    def key(a: Article) -> tuple[int, int, float, int]:
        if a.date is None:
            return (1, 0, 0.0, a.order)
        stamp = a.published.timestamp() if a.published else 0.0
        return (0, -a.date.toordinal(), -stamp, a.order)

    return sorted(articles, key=key)


def fold(text: str) -> str:
    """Sort key that ignores case and accents ("Étretat" sorts with "Etretat")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    slug: str
    name: str
    articles: tuple[Article, ...]


def group_by(articles: Sequence[Article], names: str) -> list[Group]:
    """Articles grouped by place (`dateline`) or tag (`tags`): variants of one name that
    slugify alike ("BRUXELLES", "Bruxelles") are one group, shown by its commonest spelling."""
    members: dict[str, list[Article]] = defaultdict(list)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    slugs: dict[str, str] = {}  # a few hundred names among many articles: slugify each once
    for article in articles:
        values = article.tags if names == "tags" else (article.dateline or "",)
        for value in values:
            slug = slugs.get(value)
            if slug is None:
                slug = slugs[value] = make_slug(value)
            if slug:
                members[slug].append(article)
                spellings[slug][value] += 1
    groups = [
        Group(slug=slug, name=_best_spelling(spellings[slug]), articles=tuple(items))
        for slug, items in members.items()
    ]
    return sorted(groups, key=lambda g: (fold(g.name), g.slug))


def _best_spelling(counts: Counter[str]) -> str:
    return min(counts, key=lambda s: (-counts[s], s.isupper(), s))


# --- pages ----------------------------------------------------------------------------------


def plan_site(articles: Sequence[Article], settings: Settings) -> list[Page]:
    """Every page of the site, in a stable order. `articles` are already finalized."""
    live = newest_first(a for a in articles if settings.drafts or not a.draft)
    places = group_by(live, "places")
    tags = group_by(live, "tags")
    pages = [
        *article_pages(live),
        *listing(live, "/", "index.html", settings, kind="index", feed=feed_url("/")),
        *archive_pages(live, settings),
        *group_pages(places, "places", settings),
        *group_pages(tags, "tags", settings),
        *feeds(live, {"places": places, "tags": tags}, settings),
        Page(url="/404.html", template="404.html", kind="404", lang=settings.language),
    ]
    if settings.search:
        pages.append(
            Page(url="/search/", template="search.html", kind="search", lang=settings.language)
        )
    pages += sitemaps([p.url for p in pages if p.url.endswith("/")])
    return pages


def article_pages(live: Sequence[Article]) -> Iterator[Page]:
    for i, article in enumerate(live):
        yield article_page(
            article,
            prev=live[i + 1] if i + 1 < len(live) else None,
            next=live[i - 1] if i > 0 else None,
        )


def article_page(article: Article, *, prev: Article | None, next: Article | None) -> Page:
    """An article's page, between the older (`prev`) and the newer (`next`) article."""
    return Page(
        url=article_url(article.slug),
        template="article.html",
        title=article.title,
        lang=article.lang,
        kind="article",
        article=article,
        prev=prev,
        next=next,
        crumbs=_date_crumbs(article),
    )


def _date_crumbs(article: Article) -> tuple[Link, ...]:
    """Home › Archive › 2012 › July: where a dated article sits in the date archive."""
    if article.date is None:
        return (HOME, ARCHIVE, UNDATED)
    return _month_crumbs(article.date.year, article.date.month)


@functools.cache
def _month_crumbs(year: int, month: int) -> tuple[Link, ...]:
    # One trail per month, shared by its articles: fewer objects to make and to key.
    return (
        HOME,
        ARCHIVE,
        Link(url=f"/archive/{year}/", label=str(year)),
        Link(url=f"/archive/{year}/{month:02d}/", label=f"{year:04d}-{month:02d}", localize=True),
    )


def listing(
    articles: Sequence[Article],
    base: str,
    template: str,
    settings: Settings,
    *,
    kind: str,
    title: str = "",
    crumbs: tuple[Link, ...] = (),
    groups: tuple[Link, ...] = (),
    feed: str | None = None,
) -> Iterator[Page]:
    """`base`, `base/page/2/`, …: the articles sliced `per_page` at a time (one empty page
    when there are none, so the listing still exists)."""
    size = settings.per_page
    count = max(1, -(-len(articles) // size))
    for number in range(1, count + 1):
        yield Page(
            url=page_url(base, number),
            template=template,
            title=title,
            lang=settings.language,
            kind=kind,
            articles=tuple(articles[(number - 1) * size : number * size]),
            pager=Pager(
                number=number,
                count=count,
                prev=page_url(base, number - 1) if number > 1 else None,
                next=page_url(base, number + 1) if number < count else None,
            ),
            crumbs=crumbs,
            groups=groups if number == 1 else (),
            feed=feed,
        )


def archive_pages(live: Sequence[Article], settings: Settings) -> Iterator[Page]:
    """`/archive/` (years), `/archive/YYYY/` (months and articles), `/archive/YYYY/MM/`,
    and `/archive/undated/`."""
    by_year: dict[int, list[Article]] = defaultdict(list)
    undated: list[Article] = []
    for article in live:
        (by_year[article.date.year] if article.date else undated).append(article)
    years = tuple(
        Link(url=f"/archive/{y}/", label=str(y), count=len(by_year[y]))
        for y in sorted(by_year, reverse=True)
    )
    if undated:
        years += (replace(UNDATED, count=len(undated)),)
    yield Page(
        url="/archive/",
        template="archive.html",
        kind="archive",
        lang=settings.language,
        groups=years,
        crumbs=(HOME, ARCHIVE),
    )
    for year in sorted(by_year, reverse=True):
        yield from _year_pages(year, by_year[year], settings)
    if undated:
        yield from listing(
            undated,
            UNDATED.url,
            "list.html",
            settings,
            kind="undated",
            crumbs=(HOME, ARCHIVE, UNDATED),
        )


def _year_pages(year: int, articles: list[Article], settings: Settings) -> Iterator[Page]:
    by_month: dict[int, list[Article]] = defaultdict(list)
    for article in articles:
        by_month[article.date.month].append(article)  # type: ignore[union-attr]
    base = f"/archive/{year}/"
    months = [
        Link(
            url=f"{base}{m:02d}/",
            label=f"{year:04d}-{m:02d}",
            count=len(by_month[m]),
            localize=True,
        )
        for m in sorted(by_month, reverse=True)
    ]
    year_link = Link(url=base, label=str(year))
    yield from listing(
        articles,
        base,
        "year.html",
        settings,
        kind="year",
        title=str(year),
        crumbs=(HOME, ARCHIVE, year_link),
        groups=tuple(months),
    )
    for number, month in zip(sorted(by_month, reverse=True), months, strict=True):
        yield from listing(
            by_month[number],
            month.url,
            "list.html",
            settings,
            kind="month",
            title=month.label,
            crumbs=(HOME, ARCHIVE, year_link, replace(month, count=0)),
        )


def group_pages(groups: Sequence[Group], names: str, settings: Settings) -> Iterator[Page]:
    """`/places/` or `/tags/` with counts, then one paginated listing per group."""
    top = Link(url=NAMED[names], label=names, localize=True)
    yield Page(
        url=top.url,
        template="groups.html",
        kind=names,
        lang=settings.language,
        groups=tuple(
            Link(url=group_url(names, g.slug), label=g.name, count=len(g.articles)) for g in groups
        ),
        crumbs=(HOME, top),
    )
    for group in groups:
        base = group_url(names, group.slug)
        yield from listing(
            group.articles,
            base,
            "list.html",
            settings,
            kind=names[:-1],
            title=group.name,
            crumbs=(HOME, top, Link(url=base, label=group.name)),
            feed=feed_url(base),
        )


def feeds(
    live: Sequence[Article], groups: dict[str, list[Group]], settings: Settings
) -> Iterator[Page]:
    """The site feed and one per place and per tag: the newest `feed_size` articles."""
    size = settings.feed_size
    yield Page(
        url=feed_url("/"),
        template="feed.xml",
        kind="feed",
        lang=settings.language,
        articles=tuple(live[:size]),
    )
    for names, by_name in groups.items():
        for group in by_name:
            yield Page(
                url=feed_url(group_url(names, group.slug)),
                template="feed.xml",
                kind="feed",
                title=group.name,
                lang=settings.language,
                articles=group.articles[:size],
            )


def sitemaps(urls: list[str]) -> list[Page]:
    """One sitemap, or past 50,000 URLs a sitemap index over parts of at most 50,000."""
    urls = sorted(urls)
    if len(urls) <= SITEMAP_LIMIT:
        return [
            Page(url="/sitemap.xml", template="sitemap.xml", kind="sitemap", urls=tuple(urls)),
            _robots(),
        ]
    parts = [tuple(urls[i : i + SITEMAP_LIMIT]) for i in range(0, len(urls), SITEMAP_LIMIT)]
    names = tuple(f"/sitemap-{n}.xml" for n in range(1, len(parts) + 1))
    return [
        Page(url="/sitemap.xml", template="sitemap-index.xml", kind="sitemap", urls=names),
        *(
            Page(url=name, template="sitemap.xml", kind="sitemap", urls=part)
            for name, part in zip(names, parts, strict=True)
        ),
        _robots(),
    ]


def _robots() -> Page:
    return Page(url="/robots.txt", template="robots.txt", kind="robots")


def redirect_pages(redirects: Sequence[Redirect]) -> list[Page]:
    """A page at each old URL pointing to the new one, and `/_redirects` listing them all
    for hosts that read it (Netlify, Cloudflare Pages). Never in the sitemap."""
    if not redirects:
        return []
    pages = [
        Page(
            url=r.source,
            template="redirect.html",
            kind="redirect",
            title=r.title,
            lang=r.lang,
            redirects=(r,),
        )
        for r in redirects
    ]
    return [*pages, Page(url="/_redirects", template="_redirects", redirects=tuple(redirects))]
