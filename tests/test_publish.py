"""publish: a page's key names everything its bytes depend on, so that a page whose key is
unchanged may keep its file."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from newsgen.plan import Link, Page, Pager, Redirect, _kind, page_fields
from newsgen.publish import page_keys
from newsgen.records import Article
from tests.test_plan import article

A1, A2, A3, A4 = (article(n, "2020-04-05") for n in range(1, 5))
CONTENT = {a.path: f"unit{n}" for n, a in enumerate((A1, A2, A3, A4))}
PAGER = Pager(
    number=1,
    count=2,
    prev=None,
    next="/archive/2020/page/2/",
    pages=(("1", "/archive/2020/"), ("2", "/archive/2020/page/2/")),
)
PAGE = Page(
    url="/archive/2020/",
    template="list.html",
    title="2020",
    lang="it",
    kind="year",
    article=A1,
    prev=A2,
    next=A3,
    articles=(A1, A2),
    pager=PAGER,
    crumbs=(Link(url="/", label="home", localize=True),),
    groups=(Link(url="/archive/2020/04/", label="2020-04", count=2, localize=True),),
    feed="/feed.xml",
    urls=("/articles/a1/",),
    redirects=(Redirect(source="/old/", href="/old/", target="/new/", title="T", lang="it"),),
    related=(A2, A3),
    older=Link(url="/archive/2019/", label="2019"),
    newer=None,
    languages=(Link(url="/languages/en/", label="language:en", localize=True),),
)
# Another value for every field of a page.
CHANGED: dict[str, object] = {
    "url": "/archive/2021/",
    "template": "groups.html",
    "title": "2021",
    "lang": "fr",
    "kind": "month",
    "article": A4,
    "prev": None,
    "next": A4,
    "articles": (A1, A4),
    "pager": Pager(number=2, count=2, prev="/archive/2020/", next=None),
    "crumbs": (Link(url="/", label="home", localize=False),),
    "groups": (Link(url="/archive/2020/04/", label="2020-04", count=3, localize=True),),
    "feed": None,
    "urls": ("/articles/a2/",),
    "redirects": (),
    "related": (A3, A2),
    "older": Link(url="/archive/2018/", label="2018"),
    "newer": Link(url="/archive/2021/", label="2021"),
    "languages": (),
}


def key(page: Page, content: dict[str, str] = CONTENT) -> str:
    return page_keys([page], "salt", content)[page.url]


def test_every_field_of_a_page_has_a_changed_value_here() -> None:
    assert set(CHANGED) == {f.name for f in fields(Page)}


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_a_change_of_any_field_changes_the_key(name: str) -> None:
    """A field the key left out would let a changed page keep its old file."""
    changed = replace(PAGE, **{name: CHANGED[name]})  # type: ignore[arg-type]
    assert key(changed) != key(PAGE)


def test_a_shown_article_changes_the_key_by_its_content_and_its_slug() -> None:
    assert key(PAGE, {**CONTENT, A2.path: "edited"}) != key(PAGE)
    assert key(replace(PAGE, prev=replace(A2, slug="other"))) != key(PAGE)


def test_articles_moved_from_one_field_to_another_change_the_key() -> None:
    """Two fields that hold articles are two lists, not one run of articles."""
    both = replace(PAGE, articles=(A1, A2), related=())
    assert key(both) != key(replace(PAGE, articles=(A1,), related=(A2,)))


def test_the_numbered_links_of_a_pager_change_the_key() -> None:
    """The pager's numbered links are drawn: other links with the same number and count
    make the page again."""
    pager = replace(PAGER, pages=(("1", "/archive/2020/"), ("2", "/archive/2020/p2/")))
    assert key(replace(PAGE, pager=pager)) != key(PAGE)


def test_the_salt_and_nothing_else_keys_the_same_page_the_same() -> None:
    assert key(PAGE) == key(replace(PAGE))
    assert page_keys([PAGE], "other", CONTENT) != page_keys([PAGE], "salt", CONTENT)


@pytest.mark.parametrize(
    ("hint", "kind"),
    [
        (Article | None, ("article", None)),
        (tuple[Article, ...], ("articles", None)),
        (Pager | None, ("record", Pager)),
        (tuple[Link, ...], ("records", Link)),
        (str, ("plain", None)),
        (str | None, ("plain", None)),
        (tuple[str, ...], ("plain", None)),
        (int, ("plain", None)),
    ],
)
def test_a_fields_kind_is_read_from_its_type(hint: object, kind: tuple[str, type | None]) -> None:
    """Packing stores an article by its path and a record by its fields: a wrong kind would
    lose them (or pack a whole article into every page's row)."""
    assert _kind(hint) == kind


def test_every_page_field_has_its_kind() -> None:
    kinds = {name: (kind, record) for name, kind, record in page_fields()}
    assert kinds["article"] == ("article", None)
    assert kinds["articles"] == ("articles", None)
    assert kinds["pager"] == ("record", Pager)
    assert kinds["redirects"] == ("records", Redirect)
    assert {k for k, _ in kinds.values()} == {"article", "articles", "record", "records", "plain"}
