"""plan: synthetic Article records in, pages out; no files, no Jinja."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from newsgen.enrich import finalize
from newsgen.plan import (
    SITEMAP_LIMIT,
    Link,
    Page,
    Settings,
    group_by,
    newest_first,
    plan_site,
    sitemaps,
    url_to_path,
    with_languages,
)
from newsgen.records import Article
from newsgen.slugs import SLUG_LENGTH


def article(
    n: int,
    date: str | None = None,
    *,
    dateline: str | None = None,
    tags: tuple[str, ...] = (),
    published: str | None = None,
    draft: bool = False,
) -> Article:
    """Article number `n` in source order, slug `a<n>`."""
    return Article(
        id=f"{n:016x}",
        path=f"seeds/{n:03d}.txt",
        order=n,
        title=f"Article {n}",
        slug=f"a{n}",
        lang="en",
        dateline=dateline,
        date=dt.date.fromisoformat(date) if date else None,
        published=dt.datetime.fromisoformat(published) if published else None,
        summary="",
        tags=tags,
        related=(),
        image=None,
        body_key=f"body{n}",
        draft=draft,
    )


def by_url(pages: list[Page]) -> dict[str, Page]:
    return {p.url: p for p in pages}


def slugs(page: Page) -> list[str]:
    return [a.slug for a in page.articles]


def links(page: Page) -> list[tuple[str, str, int]]:
    return [(g.url, g.label, g.count) for g in page.groups]


# --- ordering -------------------------------------------------------------------------------


def test_newest_first_puts_dated_by_date_then_undated_in_source_order() -> None:
    articles = [
        article(0),
        article(1, "2012-07-03"),
        article(2),
        article(3, "2020-04-05"),
        article(4, "2012-07-03"),
    ]
    assert [a.slug for a in newest_first(articles)] == ["a3", "a1", "a4", "a0", "a2"]


def test_same_day_articles_order_by_time_then_source_order() -> None:
    articles = [
        article(0, "2020-01-01", published="2020-01-01T08:00:00+00:00"),
        article(1, "2020-01-01", published="2020-01-01T18:00:00+00:00"),
        article(2, "2020-01-01"),
    ]
    assert [a.slug for a in newest_first(articles)] == ["a1", "a0", "a2"]


def test_drafts_have_no_pages() -> None:
    pages = by_url(plan_site([article(0, "2020-01-01"), article(1, draft=True)], Settings()))
    assert "/articles/a0/" in pages
    assert "/articles/a1/" not in pages
    assert slugs(pages["/"]) == ["a0"]


def test_article_pages_link_to_older_as_prev_and_newer_as_next() -> None:
    pages = by_url(plan_site([article(0, "2020-01-01"), article(1, "2021-01-01")], Settings()))
    old, new = pages["/articles/a0/"], pages["/articles/a1/"]
    assert (old.prev, old.next and old.next.slug) == (None, "a1")
    assert (new.prev and new.prev.slug, new.next) == ("a0", None)


# --- pagination -----------------------------------------------------------------------------


def test_front_page_paginates_per_page_with_prev_and_next() -> None:
    articles = [article(n, f"2020-01-{n + 1:02d}") for n in range(7)]
    pages = by_url(plan_site(articles, Settings(per_page=3)))
    first, second, third = pages["/"], pages["/page/2/"], pages["/page/3/"]
    assert "/page/4/" not in pages
    assert slugs(first) == ["a6", "a5", "a4"]
    assert slugs(second) == ["a3", "a2", "a1"]
    assert slugs(third) == ["a0"]
    assert first.pager and (first.pager.prev, first.pager.next) == (None, "/page/2/")
    assert second.pager and (second.pager.prev, second.pager.next) == ("/", "/page/3/")
    assert third.pager and (third.pager.prev, third.pager.next) == ("/page/2/", None)
    assert (third.pager.number, third.pager.count) == (3, 3)


def test_an_empty_site_still_has_a_front_page_and_archive() -> None:
    pages = by_url(plan_site([], Settings()))
    assert pages["/"].articles == ()
    assert pages["/"].pager and pages["/"].pager.count == 1
    assert links(pages["/archive/"]) == []
    assert "/archive/undated/" not in pages


# --- date archives --------------------------------------------------------------------------


DATED = [
    article(0, "2012-07-03"),
    article(1, "2012-11-02"),
    article(2),
    article(3, "2012-11-11"),
    article(4, "2020-04-05"),
    article(5),
    article(6, "2012-08-17"),
]


def test_archive_lists_years_newest_first_with_counts_then_undated() -> None:
    pages = by_url(plan_site(DATED, Settings(per_page=2)))
    assert links(pages["/archive/"]) == [
        ("/archive/2020/", "2020", 1),
        ("/archive/2012/", "2012", 4),
        ("/archive/undated/", "undated", 2),
    ]


def test_year_page_lists_months_with_counts_and_its_articles_paginated() -> None:
    pages = by_url(plan_site(DATED, Settings(per_page=2)))
    year = pages["/archive/2012/"]
    assert links(year) == [
        ("/archive/2012/11/", "2012-11", 2),
        ("/archive/2012/08/", "2012-08", 1),
        ("/archive/2012/07/", "2012-07", 1),
    ]
    assert slugs(year) == ["a3", "a1"]
    assert slugs(pages["/archive/2012/page/2/"]) == ["a6", "a0"]
    assert pages["/archive/2012/page/2/"].groups == ()


def test_month_and_undated_pages_hold_their_articles() -> None:
    pages = by_url(plan_site(DATED, Settings(per_page=2)))
    assert slugs(pages["/archive/2012/11/"]) == ["a3", "a1"]
    assert slugs(pages["/archive/2012/07/"]) == ["a0"]
    assert slugs(pages["/archive/undated/"]) == ["a2", "a5"]
    assert "/archive/2012/09/" not in pages


def test_listing_breadcrumbs_end_with_the_listing_itself() -> None:
    pages = by_url(plan_site(DATED, Settings(per_page=2)))
    trail = [(c.url, c.label) for c in pages["/archive/2012/11/"].crumbs]
    assert trail == [
        ("/", "home"),
        ("/archive/", "archive"),
        ("/archive/2012/", "2012"),
        ("/archive/2012/11/", "2012-11"),
    ]
    assert [c.url for c in pages["/archive/2012/page/2/"].crumbs][-1] == "/archive/2012/"
    assert [c.url for c in pages["/articles/a3/"].crumbs][-1] == "/archive/2012/11/"
    assert [c.url for c in pages["/articles/a2/"].crumbs][-1] == "/archive/undated/"


# --- places and tags ------------------------------------------------------------------------


def test_places_merge_case_and_accent_variants_under_the_commonest_spelling() -> None:
    articles = [
        article(0, dateline="BRUXELLES"),
        article(1, dateline="Bruxelles"),
        article(2, dateline="Bruxelles"),
        article(3, dateline="Québec"),
        article(4, dateline="QUEBEC"),
        article(5, dateline="Quebec"),
        article(6, dateline="Québec"),
    ]
    groups = group_by(newest_first(articles), "places")
    assert [(g.slug, g.name, len(g.articles)) for g in groups] == [
        ("bruxelles", "Bruxelles", 3),
        ("quebec", "Québec", 4),
    ]


def test_a_tie_between_spellings_prefers_the_one_not_in_capitals() -> None:
    groups = group_by([article(0, dateline="ROMA"), article(1, dateline="Roma")], "places")
    assert [g.name for g in groups] == ["Roma"]


def test_places_sort_alphabetically_ignoring_case_and_accents() -> None:
    names = ["Zurich", "Étretat", "berlin", "Évian", "Ecuador", "Åland", "Paris"]
    articles = [article(n, dateline=name) for n, name in enumerate(names)]
    pages = by_url(plan_site(articles, Settings()))
    assert [g.label for g in pages["/places/"].groups] == [
        "Åland",
        "berlin",
        "Ecuador",
        "Étretat",
        "Évian",
        "Paris",
        "Zurich",
    ]


def test_place_pages_list_their_articles_with_a_count_and_a_feed() -> None:
    articles = [
        article(0, "2020-01-01", dateline="Cairo"),
        article(1, "2021-01-01", dateline="CAIRO"),
        article(2, "2022-01-01", dateline="Berlin"),
        article(3, "2019-01-01"),
    ]
    pages = by_url(plan_site(articles, Settings()))
    assert links(pages["/places/"]) == [
        ("/places/berlin/", "Berlin", 1),
        ("/places/cairo/", "Cairo", 2),
    ]
    assert slugs(pages["/places/cairo/"]) == ["a1", "a0"]
    assert pages["/places/cairo/"].feed == "/places/cairo/feed.xml"
    assert slugs(pages["/places/cairo/feed.xml"]) == ["a1", "a0"]


def test_tags_group_across_articles_and_paginate() -> None:
    articles = [
        article(0, "2020-01-01", tags=("COVID-19", "health")),
        article(1, "2020-02-01", tags=("covid-19",)),
        article(2, "2020-03-01", tags=("Covid-19", "Health")),
    ]
    pages = by_url(plan_site(articles, Settings(per_page=2)))
    assert [(g.url, g.count) for g in pages["/tags/"].groups] == [
        ("/tags/covid-19/", 3),
        ("/tags/health/", 2),
    ]
    assert slugs(pages["/tags/covid-19/"]) == ["a2", "a1"]
    assert slugs(pages["/tags/covid-19/page/2/"]) == ["a0"]
    assert slugs(pages["/tags/covid-19/feed.xml"]) == ["a2", "a1", "a0"]


def test_a_name_that_slugifies_to_nothing_makes_no_group() -> None:
    assert group_by([article(0, dateline="—", tags=("!!!",))], "places") == []
    assert group_by([article(0, dateline="—", tags=("!!!",))], "tags") == []


# --- feeds ----------------------------------------------------------------------------------


def test_feeds_hold_the_newest_feed_size_articles() -> None:
    articles = [article(n, f"2020-01-{n + 1:02d}", tags=("t",)) for n in range(8)]
    articles.append(article(8, tags=("t",)))
    pages = by_url(plan_site(articles, Settings(feed_size=3)))
    assert slugs(pages["/feed.xml"]) == ["a7", "a6", "a5"]
    assert slugs(pages["/tags/t/feed.xml"]) == ["a7", "a6", "a5"]
    assert pages["/feed.xml"].template == "feed.xml"


# --- sitemaps -------------------------------------------------------------------------------


def test_sitemap_lists_every_html_page_once_and_robots_names_it() -> None:
    pages = plan_site(DATED, Settings(per_page=2))
    sitemap = by_url(pages)["/sitemap.xml"]
    html = sorted(p.url for p in pages if p.url.endswith("/"))
    assert list(sitemap.urls) == html
    assert "/feed.xml" not in sitemap.urls
    assert "/404.html" not in sitemap.urls
    assert by_url(pages)["/robots.txt"].template == "robots.txt"


def test_exactly_the_limit_is_still_one_sitemap() -> None:
    urls = [f"/articles/a{n}/" for n in range(SITEMAP_LIMIT)]
    pages = by_url(sitemaps(urls))
    assert pages["/sitemap.xml"].template == "sitemap.xml"
    assert len(pages["/sitemap.xml"].urls) == SITEMAP_LIMIT


def test_past_50000_urls_the_sitemap_becomes_an_index_of_parts() -> None:
    articles = [article(n, None) for n in range(SITEMAP_LIMIT + 10)]
    pages = plan_site(articles, Settings(per_page=1000))
    html = {p.url for p in pages if p.url.endswith("/")}
    assert len(html) > SITEMAP_LIMIT
    found = by_url(pages)
    index = found["/sitemap.xml"]
    assert index.template == "sitemap-index.xml"
    assert index.urls == ("/sitemap-1.xml", "/sitemap-2.xml")
    parts = [found[u] for u in index.urls]
    assert all(p.template == "sitemap.xml" for p in parts)
    assert [len(p.urls) for p in parts] == [SITEMAP_LIMIT, len(html) - SITEMAP_LIMIT]
    listed = [u for p in parts for u in p.urls]
    assert len(listed) == len(set(listed))
    assert set(listed) == html


# --- colliding slugs -----------------------------------------------------------------------


def test_a_numbered_slug_still_fits_the_length_limit() -> None:
    long = "notizia-" * 9 + "ultimate"
    assert len(long) == SLUG_LENGTH
    first, second = (replace(article(n), slug=long, title="Stessa notizia") for n in (0, 1))
    kept, problems = finalize([first, second])
    numbered = "notizia-" * 8 + "notizia-2"
    assert [a.slug for a in kept] == [long, numbered]
    assert len(numbered) == 73
    assert [str(p) for p in problems] == [
        f"seeds/001.txt:1: URL /articles/{long}/ is already used by seeds/000.txt; "
        f"published as /articles/{numbered}/; set 'slug:' in front matter to choose"
    ]
    pages = by_url(plan_site(kept, Settings()))
    assert f"/articles/{numbered}/" in pages
    assert f"/articles/{long}/" in pages


# --- the plan as a whole --------------------------------------------------------------------


def test_no_two_pages_share_a_url_or_a_file() -> None:
    articles = [
        article(n, f"20{10 + n % 5}-0{1 + n % 3}-01", dateline="X", tags=("y",)) for n in range(9)
    ]
    pages = plan_site([*articles, article(9), article(10)], Settings(per_page=2))
    assert len({p.url for p in pages}) == len(pages)
    assert len({url_to_path(p.url) for p in pages}) == len(pages)


def test_localized_links_are_marked_and_names_are_not() -> None:
    pages = by_url(plan_site([article(0, "2020-03-01", dateline="Archive")], Settings()))
    assert pages["/places/"].groups == (Link(url="/places/archive/", label="Archive", count=1),)
    assert pages["/archive/2020/"].groups[0].localize
    assert not pages["/archive/2020/"].crumbs[-1].localize


def test_the_languages_are_given_to_the_pages_in_place_not_in_a_second_list() -> None:
    """A second list held every page twice at the plan's end, where memory peaks."""
    articles = [replace(article(1, "2012-07-01"), lang="it"), article(2, "2012-07-02")]
    pages = plan_site(articles, Settings(per_page=10, feed_size=10, language="en"))
    shown = [p for p in pages if p.url.endswith("/") or p.kind == "404"]
    assert shown and all(p.languages == pages[0].languages for p in shown)
    assert [link.url for link in pages[0].languages] == ["/languages/en/", "/languages/it/"]
    bare = [replace(p, languages=()) for p in pages]
    first = bare[0]
    with_languages(bare, group_by(newest_first(articles), "languages"))
    assert bare[0] is not first and bare == pages


def test_undated_articles_share_one_trail() -> None:
    pages = by_url(plan_site([article(1), article(2)], Settings(per_page=10, feed_size=10)))
    assert pages["/articles/a1/"].crumbs is pages["/articles/a2/"].crumbs
