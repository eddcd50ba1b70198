"""plan owns the URL scheme: templates ask `url_for`, the incremental code `article_slug`."""

from __future__ import annotations

import pytest

from newsgen.plan import article_page, article_slug, article_url, url_for
from newsgen.urls import parse_registry, read_registry
from tests.test_plan import article


@pytest.mark.parametrize(
    ("kind", "value", "url"),
    [
        ("home", None, "/"),
        ("archive", None, "/archive/"),
        ("undated", None, "/archive/undated/"),
        ("places", None, "/places/"),
        ("tags", None, "/tags/"),
        ("search", None, "/search/"),
        ("feed", None, "/feed.xml"),
        ("sitemap", None, "/sitemap.xml"),
        ("pagefind", None, "/pagefind/"),
        ("article", article(7), "/articles/a7/"),
        ("place", "Reggio di Calabria", "/places/reggio-di-calabria/"),
        ("tag", "Politique étrangère", "/tags/politique-etrangere/"),
        ("tag", "!!!", ""),
        ("listing", "/places/roma/feed.xml", "/places/roma/"),
        ("listing", "/feed.xml", "/"),
    ],
)
def test_url_for_each_kind_of_page(kind: str, value: object, url: str) -> None:
    assert url_for(kind, value) == url  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "value"), [("nowhere", None), ("article", "a7"), ("home", "x")])
def test_url_for_a_page_that_is_not_there_says_so(kind: str, value: object) -> None:
    with pytest.raises(ValueError) as raised:
        url_for(kind, value)  # type: ignore[arg-type]
    assert str(raised.value) == f"url_for({kind!r}, {value!r}): no such page; see docs/themes.md"


@pytest.mark.parametrize("slug", ["a", "il-governo-federale", "x-2"])
def test_article_slug_reads_back_what_article_url_made(slug: str) -> None:
    assert article_slug(article_url(slug)) == slug


@pytest.mark.parametrize(
    "url", ["/articles/", "/articles/a/b/", "/x/articles/a/", "/places/a/", "/articles/a"]
)
def test_other_urls_have_no_article_slug(url: str) -> None:
    assert article_slug(url) is None


def test_an_article_pages_url_and_the_registrys_are_one_string() -> None:
    """Two copies of every article's URL were a million strings at a million articles."""
    text = '"0000000000000001":\n- /articles/a1/\n'
    registry, problems = parse_registry(read_registry(text))
    page = article_page(article(1), prev=None, next=None)
    assert problems == [] and registry.urls["0000000000000001"] == (page.url,)
    assert registry.urls["0000000000000001"][0] is page.url
