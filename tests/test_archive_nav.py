"""plan: how a reader walks the archive. Numbered pagination, months and years linked to
their neighbours, a listing per language, previous and next within a language."""

from __future__ import annotations

from dataclasses import replace

from newsgen.plan import Link, Settings, numbered, plan_site
from tests.test_plan import article, by_url, slugs


def test_a_short_listing_numbers_every_page() -> None:
    assert numbered("/", 1, 1) == ()
    assert numbered("/", 2, 3) == (("1", "/"), ("2", "/page/2/"), ("3", "/page/3/"))


def test_a_long_listing_shows_the_ends_and_a_window_with_gaps() -> None:
    labels = [label for label, _ in numbered("/x/", 7, 14)]
    assert labels == ["1", "…", "5", "6", "7", "8", "9", "…", "14"]
    assert numbered("/x/", 7, 14)[1] == ("…", "")
    assert numbered("/x/", 7, 14)[-1] == ("14", "/x/page/14/")


def test_a_gap_never_stands_for_one_number() -> None:
    assert [label for label, _ in numbered("/", 4, 14)] == [
        "1", "2", "3", "4", "5", "6", "…", "14",
    ]  # fmt: skip
    assert [label for label, _ in numbered("/", 1, 14)] == ["1", "2", "3", "…", "14"]
    assert [label for label, _ in numbered("/", 14, 14)] == ["1", "…", "12", "13", "14"]


def test_every_paginated_listing_carries_its_numbers() -> None:
    pages = by_url(plan_site([article(n) for n in range(7)], Settings(per_page=2)))
    pager = pages["/page/3/"].pager
    assert pager is not None
    assert [label for label, _ in pager.pages] == ["1", "2", "3", "4"]
    undated = pages["/archive/undated/page/2/"].pager
    assert undated is not None and undated.pages[0] == ("1", "/archive/undated/")


def test_months_link_the_months_around_them_across_a_year() -> None:
    pages = by_url(
        plan_site(
            [article(1, "2011-11-02"), article(2, "2012-01-05"), article(3, "2012-03-01")],
            Settings(),
        )
    )
    january = pages["/archive/2012/01/"]
    assert january.older == Link(url="/archive/2011/11/", label="2011-11", localize=True)
    assert january.newer == Link(url="/archive/2012/03/", label="2012-03", localize=True)
    assert pages["/archive/2011/11/"].older is None
    assert pages["/archive/2012/03/"].newer is None


def test_years_link_the_years_around_them_with_articles() -> None:
    pages = by_url(plan_site([article(1, "2009-01-01"), article(2, "2012-01-01")], Settings()))
    assert pages["/archive/2012/"].older == Link(url="/archive/2009/", label="2009")
    assert pages["/archive/2009/"].newer == Link(url="/archive/2012/", label="2012")
    assert pages["/archive/2009/"].older is None


def multilingual() -> list:  # type: ignore[type-arg]
    langs = ["it", "en", "fr", "it", "en", "it"]
    return [replace(article(n, f"2020-01-{10 - n:02d}"), lang=lang) for n, lang in enumerate(langs)]


def test_a_site_of_several_languages_lists_each_with_a_feed() -> None:
    pages = by_url(plan_site(multilingual(), Settings(language="it")))
    assert slugs(pages["/languages/it/"]) == ["a0", "a3", "a5"]
    assert slugs(pages["/languages/fr/"]) == ["a2"]
    top = pages["/languages/"]
    assert [(g.url, g.label, g.count) for g in top.groups] == [
        ("/languages/en/", "language:en", 2),
        ("/languages/fr/", "language:fr", 1),
        ("/languages/it/", "language:it", 3),
    ]
    feed = pages["/languages/fr/feed.xml"]
    assert (feed.lang, [a.slug for a in feed.articles]) == ("it", ["a2"])
    assert pages["/languages/fr/"].feed == "/languages/fr/feed.xml"
    # The header of every page a reader sees links the languages.
    assert pages["/"].languages == tuple(replace(g, count=0) for g in top.groups)
    assert pages["/articles/a1/"].languages == pages["/"].languages
    assert pages["/feed.xml"].languages == ()


def test_a_site_of_one_language_has_no_language_pages() -> None:
    pages = by_url(plan_site([article(1), article(2)], Settings()))
    assert not [url for url in pages if url.startswith("/languages/")]
    assert pages["/"].languages == ()


def test_previous_and_next_stay_within_the_article_s_language() -> None:
    pages = by_url(plan_site(multilingual(), Settings(language="it")))
    a3 = pages["/articles/a3/"]
    assert (a3.prev and a3.prev.slug, a3.next and a3.next.slug) == ("a5", "a0")
    a2 = pages["/articles/a2/"]
    assert (a2.prev, a2.next) == (None, None)
