"""The tags that other programs read from an article page: search engines (description,
canonical, JSON-LD), link previews (Open Graph, Twitter cards). Each asserted on its own,
with the value it must hold, so that one gone wrong names itself."""

from __future__ import annotations

import json

import pytest
from lxml import html

from tests.conftest import MakeSite, build_site

URL = "https://news.example.org/archive/articles/le-conseil-vote-le-budget/"
TITLE = "Le conseil vote le budget"
SUMMARY = "Le conseil municipal a voté le budget de la ville pour 2023 après six heures de débat."
IMAGE = "https://images.example.net/photos/conseil.jpg"
CURATED = f"""---
title: {TITLE}
date: 2022-11-30T08:30:00+02:00
lang: fr
dateline: Lyon
tags: [politique, budget]
summary: {SUMMARY}
---
Après six heures de débat, le conseil municipal a voté le budget.

![La salle du conseil [Credit: Ville de Lyon]]({IMAGE})
"""


@pytest.fixture
def head(make_site: MakeSite) -> html.HtmlElement:
    site = make_site(
        {
            "articles/budget.md": CURATED,
            "newsgen.yaml": "title: Archives de Lyon\nbase_url: https://news.example.org/archive/\n",
        }
    )
    config, _ = build_site(site)
    page = config.output_dir / "articles" / "le-conseil-vote-le-budget" / "index.html"
    return html.fromstring(page.read_bytes()).find("head")


def meta(head: html.HtmlElement, key: str) -> list[str]:
    """The content of every <meta name=key> or <meta property=key>, in order."""
    return [
        str(m.get("content"))
        for m in head.iter("meta")
        if key in (m.get("name"), m.get("property"))
    ]


def test_the_title_names_the_article_then_the_site(head: html.HtmlElement) -> None:
    assert head.findtext("title") == f"{TITLE} · Archives de Lyon"


def test_the_canonical_url_is_absolute_under_the_base_url(head: html.HtmlElement) -> None:
    assert [link.get("href") for link in head.iter("link") if link.get("rel") == "canonical"] == [
        URL
    ]


@pytest.mark.parametrize("key", ["description", "og:description", "twitter:description"])
def test_descriptions_are_the_summary_not_the_title(head: html.HtmlElement, key: str) -> None:
    assert meta(head, key) == [SUMMARY]


@pytest.mark.parametrize("key", ["og:title", "twitter:title"])
def test_preview_titles_are_the_headline_alone(head: html.HtmlElement, key: str) -> None:
    assert meta(head, key) == [TITLE]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("og:type", "article"),
        ("og:url", URL),
        ("og:site_name", "Archives de Lyon"),
        ("og:locale", "fr_FR"),
        ("og:image", IMAGE),
        ("twitter:card", "summary_large_image"),
        ("twitter:image", IMAGE),
        ("article:published_time", "2022-11-30T08:30:00+02:00"),
    ],
)
def test_each_preview_tag_holds_its_value(head: html.HtmlElement, key: str, value: str) -> None:
    assert meta(head, key) == [value]


def test_every_tag_is_an_article_tag_in_order(head: html.HtmlElement) -> None:
    assert meta(head, "article:tag") == ["politique", "budget"]


def test_the_json_ld_describes_the_same_article(head: html.HtmlElement) -> None:
    (script,) = [s for s in head.iter("script") if s.get("type") == "application/ld+json"]
    data = json.loads(script.text)
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == TITLE
    assert data["description"] == SUMMARY
    assert data["url"] == URL
    assert data["mainEntityOfPage"] == {"@id": URL, "@type": "WebPage"}
    assert data["inLanguage"] == "fr"
    assert data["image"] == [IMAGE]
    assert data["datePublished"] == "2022-11-30T08:30:00+02:00"
    assert data["contentLocation"] == {"@type": "Place", "name": "Lyon"}
    assert data["publisher"] == {"@type": "Organization", "name": "Archives de Lyon"}


def test_an_article_without_image_or_date_says_so(make_site: MakeSite) -> None:
    site = make_site({"articles/plain.md": "---\ntitle: Sans image\n---\nUn texte simple.\n"})
    config, _ = build_site(site)
    page = config.output_dir / "articles" / "sans-image" / "index.html"
    head = html.fromstring(page.read_bytes()).find("head")
    assert meta(head, "twitter:card") == ["summary"]
    for key in ("og:image", "twitter:image", "article:published_time", "article:tag"):
        assert meta(head, key) == [], key
