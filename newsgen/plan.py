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
from newsgen.related import related_articles

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
UNDATED_CRUMBS = (HOME, ARCHIVE, UNDATED)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pager:
    """Where a page sits in its listing. `pages` are the numbered links to show, as (number,
    URL): the first, the last and a window around this one, with a gap ("…", "") where
    numbers are left out. Plain pairs: a Pager is stored as plain values."""

    number: int
    count: int
    prev: str | None
    next: str | None
    pages: tuple[tuple[str, str], ...] = ()


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
    related: tuple[Article, ...] = ()
    # The neighbouring month or year that has articles, on month and year pages.
    older: Link | None = None
    newer: Link | None = None
    # Every language of the site, when it has more than one: the header links them.
    languages: tuple[Link, ...] = ()


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


def language_url(code: str) -> str:
    """The listing of one language's articles: `/languages/fr/`."""
    return f"/languages/{code.lower()}/"


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
    "languages": "/languages/",
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
    if kind == "language" and isinstance(value, str):
        return language_url(value)
    if kind in NAMED and value is None:
        return NAMED[kind]
    raise ValueError(f"url_for({kind!r}, {value!r}): no such page; see docs/themes.md")


@functools.lru_cache(maxsize=4096)
def group_slug(name: str) -> str:
    """Slugs of tags and places, which every article page links to: each slugified once."""
    return make_slug(name)


def page_url(base: str, number: int) -> str:
    return base if number == 1 else f"{base}page/{number}/"


def page_links(base: str, count: int) -> list[tuple[str, str]]:
    """Every page of a listing of `count` pages as (its number, its URL)."""
    return [(str(n), page_url(base, n)) for n in range(1, count + 1)]


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
        values = (
            article.tags
            if names == "tags"
            else (article.lang,)
            if names == "languages"
            else (article.dateline or "",)
        )
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
    languages = group_by(live, "languages")
    pages = [
        *article_pages(live, related_articles(live)),
        *listing(live, "/", "index.html", settings, kind="index", feed=feed_url("/")),
        *archive_pages(live, settings),
        *group_pages(places, "places", settings),
        *group_pages(tags, "tags", settings),
        *(group_pages(languages, "languages", settings) if len(languages) > 1 else ()),
        *feeds(live, {"places": places, "tags": tags, "languages": languages}, settings),
        Page(url="/404.html", template="404.html", kind="404", lang=settings.language),
    ]
    if settings.search:
        pages.append(
            Page(url="/search/", template="search.html", kind="search", lang=settings.language)
        )
    if len(languages) > 1:
        with_languages(pages, languages)
    pages += sitemaps([p.url for p in pages if p.url.endswith("/")])
    return pages


def with_languages(pages: list[Page], languages: Sequence[Group]) -> None:
    """Give every page a reader sees the languages its header links to (without counts,
    which would change every page's key whenever an article comes or goes)."""
    links = tuple(group_link("languages", g) for g in languages)
    # In place, each page dropped as soon as its copy is made: a new list held every page
    # twice at the plan's end, where a first build's memory peaks.
    for i, page in enumerate(pages):
        if page.url.endswith("/") or page.kind == "404":
            pages[i] = replace(page, languages=links)


def article_pages(
    live: Sequence[Article], related: Sequence[tuple[Article, ...]]
) -> Iterator[Page]:
    """Each article's page, between the older and the newer article of its language."""
    last: dict[str, int] = {}
    newer: list[Article | None] = [None] * len(live)
    older: list[Article | None] = [None] * len(live)
    for i, article in enumerate(live):
        j = last.get(article.lang)
        if j is not None:
            newer[i], older[j] = live[j], article
        last[article.lang] = i
    for i, article in enumerate(live):
        yield article_page(article, prev=older[i], next=newer[i], related=related[i])


def article_page(
    article: Article,
    *,
    prev: Article | None,
    next: Article | None,
    related: tuple[Article, ...] = (),
) -> Page:
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
        related=related,
    )


def _date_crumbs(article: Article) -> tuple[Link, ...]:
    """Home › Archive › 2012 › July: where a dated article sits in the date archive."""
    if article.date is None:
        return UNDATED_CRUMBS
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
    older: Link | None = None,
    newer: Link | None = None,
) -> Iterator[Page]:
    """`base`, `base/page/2/`, …: the articles sliced `per_page` at a time (one empty page
    when there are none, so the listing still exists)."""
    size = settings.per_page
    count = max(1, -(-len(articles) // size))
    # Each page's number and URL made once for the listing and shared by its pages' pagers:
    # at 100,000 articles the pagers' own tuples alone held 16 MB while the site rendered.
    links = page_links(base, count)
    for number in range(1, count + 1):
        yield Page(
            url=links[number - 1][1],
            template=template,
            title=title,
            lang=settings.language,
            kind=kind,
            articles=tuple(articles[(number - 1) * size : number * size]),
            pager=Pager(
                number=number,
                count=count,
                prev=links[number - 2][1] if number > 1 else None,
                next=links[number][1] if number < count else None,
                pages=numbered(base, number, count, links),
            ),
            crumbs=crumbs,
            groups=groups if number == 1 else (),
            feed=feed,
            older=older,
            newer=newer,
        )


# Numbers on each side of the current page in a pager; the first and the last always show.
PAGER_WINDOW = 2
GAP = ("…", "")


def numbered(
    base: str, number: int, count: int, links: Sequence[tuple[str, str]] = ()
) -> tuple[tuple[str, str], ...]:
    """1 … 4 5 [6] 7 8 … 14: a gap stands for two numbers or more, never for one. `links`,
    when given, holds every page's (number, URL) of the listing, to be shared."""
    if count < 2:
        return ()
    links = links or page_links(base, count)
    low, high = max(1, number - PAGER_WINDOW), min(count, number + PAGER_WINDOW)
    shown = sorted({1, count, *range(low, high + 1)})
    pager: list[tuple[str, str]] = []
    for before, n in zip([0, *shown], shown, strict=False):
        if n - before == 2:
            pager.append(links[n - 2])
        elif n - before > 2:
            pager.append(GAP)
        pager.append(links[n - 1])
    return tuple(pager)


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
    ordered = sorted(by_year, reverse=True)
    months = {year: _by_month(by_year[year]) for year in ordered}
    for i, year in enumerate(ordered):
        older = years[i + 1] if i + 1 < len(ordered) else None
        newer = years[i - 1] if i > 0 else None
        yield from _year_pages(year, by_year[year], months[year], settings, older, newer)
    yield from _month_pages(months, settings)
    if undated:
        yield from listing(
            undated,
            UNDATED.url,
            "list.html",
            settings,
            kind="undated",
            crumbs=(HOME, ARCHIVE, UNDATED),
        )


def _by_month(articles: Sequence[Article]) -> dict[int, list[Article]]:
    by_month: dict[int, list[Article]] = defaultdict(list)
    for article in articles:
        by_month[article.date.month].append(article)  # type: ignore[union-attr]
    return by_month


def _month_link(year: int, month: int, by_month: dict[int, list[Article]]) -> Link:
    return Link(
        url=f"/archive/{year}/{month:02d}/",
        label=f"{year:04d}-{month:02d}",
        count=len(by_month[month]),
        localize=True,
    )


def _year_pages(
    year: int,
    articles: list[Article],
    by_month: dict[int, list[Article]],
    settings: Settings,
    older: Link | None,
    newer: Link | None,
) -> Iterator[Page]:
    base = f"/archive/{year}/"
    yield from listing(
        articles,
        base,
        "year.html",
        settings,
        kind="year",
        title=str(year),
        crumbs=(HOME, ARCHIVE, Link(url=base, label=str(year))),
        groups=tuple(_month_link(year, m, by_month) for m in sorted(by_month, reverse=True)),
        older=replace(older, count=0) if older else None,
        newer=replace(newer, count=0) if newer else None,
    )


def _month_pages(months: dict[int, dict[int, list[Article]]], settings: Settings) -> Iterator[Page]:
    """Each month's listing, linked to the months before and after it that have articles,
    across the turn of a year. `months`: the articles of each month of each year."""
    order = [(y, m) for y in sorted(months, reverse=True) for m in sorted(months[y], reverse=True)]
    links = [replace(_month_link(y, m, months[y]), count=0) for y, m in order]
    for i, (year, month) in enumerate(order):
        yield from listing(
            months[year][month],
            links[i].url,
            "list.html",
            settings,
            kind="month",
            title=links[i].label,
            crumbs=_month_crumbs(year, month),
            older=links[i + 1] if i + 1 < len(links) else None,
            newer=links[i - 1] if i > 0 else None,
        )


def group_pages(groups: Sequence[Group], names: str, settings: Settings) -> Iterator[Page]:
    """`/places/` or `/tags/` with counts, then one paginated listing per group."""
    top = Link(url=NAMED[names], label=names, localize=True)
    links = [group_link(names, g) for g in groups]
    yield Page(
        url=top.url,
        template="groups.html",
        kind=names,
        lang=settings.language,
        groups=tuple(
            replace(link, count=len(g.articles)) for link, g in zip(links, groups, strict=True)
        ),
        crumbs=(HOME, top),
    )
    for group, link in zip(groups, links, strict=True):
        yield from listing(
            group.articles,
            link.url,
            "list.html",
            settings,
            kind=names[:-1],
            title=group.name,
            crumbs=(HOME, top, link),
            feed=feed_url(link.url),
        )


def group_link(names: str, group: Group) -> Link:
    """A place or tag is shown by its name; a language by its name in the reader's language."""
    if names == "languages":
        return Link(url=language_url(group.slug), label=f"language:{group.slug}", localize=True)
    return Link(url=group_url(names, group.slug), label=group.name)


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
        if names == "languages" and len(by_name) < 2:
            continue  # one language: its feed would be the site's
        for group in by_name:
            language = names == "languages"
            yield Page(
                url=feed_url(group_link(names, group).url),
                template="feed.xml",
                kind="feed",
                title="" if language else group.name,
                # The feed's own words are the site's; each entry carries its language.
                lang=settings.language,
                articles=group.articles[:size],
                crumbs=(group_link(names, group),) if language else (),
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
