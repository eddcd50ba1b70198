"""Every Atom feed names the theme's XSLT stylesheet (assets/feed.xsl), which shows the feed as
a page of the site in a browser: the feeds stay valid Atom for news readers, lxml applies the
stylesheet, every text of a feed comes out as text, and Chromium shows the page, styled by the
site's style.css in both colour schemes, with no console error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import feedparser
import pytest
from lxml import etree, html
from playwright.sync_api import ConsoleMessage, Error, Page, expect

from newsgen.build import BuildResult
from newsgen.config import Config
from newsgen.theme import THEME
from tests.conftest import MakeSite, build_site
from tests.safety import html_findings
from tests.site_pages import serve
from tests.test_feeds import BASE, atom_problems, feeds_of

STYLESHEET = THEME / "static" / "assets" / "feed.xsl"
HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ATOM = "{http://www.w3.org/2005/Atom}"


def published(output: Path, name: str) -> str:
    """The name an asset of the theme (`style.css`) is published under in `output/assets/`:
    with the first 8 hex digits of its hash before the extension."""
    stem, extension = name.rsplit(".", 1)
    found = [p.name for p in (output / "assets").iterdir()]
    names = [n for n in found if re.fullmatch(rf"{stem}\.[0-9a-f]{{8}}\.{extension}", n)]
    assert len(names) == 1, found
    return names[0]


def as_page(feed: bytes, stylesheet: Path = STYLESHEET) -> tuple[html.HtmlElement, str]:
    """The feed through a stylesheet (the theme's own file, or one as a build published
    it): (the page, its HTML as lxml writes it)."""
    transform = etree.XSLT(etree.parse(str(stylesheet)))
    written = str(transform(etree.fromstring(feed, etree.XMLParser()).getroottree()))
    return html.document_fromstring(written), written


def texts(page: html.HtmlElement, path: str) -> list[str]:
    return [e.text_content() for e in page.xpath(path)]


# --- the feeds ----------------------------------------------------------------------------------


def test_every_feed_names_the_stylesheet_and_stays_valid_atom(
    sample_site: tuple[Config, BuildResult],
) -> None:
    output = sample_site[0].output_dir
    feeds = feeds_of(output)
    assert len(feeds) >= 8
    xsl = published(output, "feed.xsl")
    instruction = f'<?xml-stylesheet type="text/xsl" href="/archivio/assets/{xsl}"?>\n'
    for path in feeds:
        data = path.read_bytes()
        assert data.decode().startswith(HEAD + instruction + "<feed "), path
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, f"{path}: {parsed.get('bozo_exception')}"
        assert parsed.version == "atom10"
        assert atom_problems(path) == [], path
    # The theme's file, but for the published names of the assets it links.
    style, icon = published(output, "style.css"), published(output, "icon.svg")
    theirs = STYLESHEET.read_text().replace("/style.css", f"/{style}")
    assert (output / "assets" / xsl).read_text() == theirs.replace("/icon.svg", f"/{icon}")
    assert not (output / "assets" / "feed.xsl").exists()


# --- the stylesheet, applied by lxml ------------------------------------------------------------


def test_every_feed_of_the_sample_becomes_a_page_of_its_entries(
    sample_site: tuple[Config, BuildResult],
) -> None:
    output = sample_site[0].output_dir
    xsl = output / "assets" / published(output, "feed.xsl")
    style = f"/archivio/assets/{published(output, 'style.css')}"
    for path in feeds_of(output):
        data = path.read_bytes()
        feed = etree.fromstring(data)
        parsed = feedparser.parse(data)
        page, written = as_page(data, xsl)
        where = str(path.relative_to(output))
        assert page.get("lang") == feed.get(XML_LANG), where
        assert texts(page, "//title") == texts(page, "//h1") == [parsed.feed.title], where
        assert texts(page, "//article/h2") == [e.title for e in parsed.entries], where
        assert [a.get("lang") for a in page.xpath("//article")] == [
            e.get(XML_LANG) for e in feed.iter(f"{ATOM}entry")
        ], where
        assert page.xpath("//article/h2/a/@href") == [
            e.link.replace(BASE, "/archivio/") for e in parsed.entries
        ], where
        assert texts(page, "//article/p[@class='summary']") == [e.summary for e in parsed.entries]
        assert texts(page, "//code") == [BASE + where], where
        assert page.xpath("//link[@rel='stylesheet']/@href") == [style]
        assert page.xpath("//script | //style | //*[@style]") == [], where
        assert html_findings(written.encode(), where) == []


def test_the_site_feed_page_speaks_the_site_language_and_dates_its_entries(
    sample_site: tuple[Config, BuildResult],
) -> None:
    output = sample_site[0].output_dir
    xsl = output / "assets" / published(output, "feed.xsl")
    page, _ = as_page((output / "feed.xml").read_bytes(), xsl)
    assert page.xpath("//*[@class='feed-about']/@lang") == []
    assert texts(page, "//*[@class='feed-about']/p") == [
        "Questo è un feed Atom: un lettore di notizie lo consulta e vi trova i nuovi articoli. "
        "Per seguire l’archivio, copia questo indirizzo nel tuo lettore di feed:",
        "https://example.org/archivio/feed.xml",
        "Leggi questi articoli sul sito",
    ]
    assert page.xpath("//*[@class='feed-about']//a/@href") == ["/archivio/"]
    assert page.xpath("//p[@class='site-title']/a/@href") == ["/archivio/"]
    assert texts(page, "//article//time") == [
        "2020-04-05",
        "2012-11-11",
        "2012-11-02",
        "2012-08-17",
        "2012-07-03",
    ]
    assert page.xpath("//article//time/@datetime")[0] == "2020-04-05T00:00:00Z"


HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_SUMMARY = "<img src=x onerror=alert(2)> & <b>more</b>"
HOSTILE_SITE = {
    "newsgen.yaml": 'title: "Prova <b>&amp;</b>"\nbase_url: https://example.org/\nlanguage: en\n',
    "articles/a.md": (
        f'---\ntitle: "{HOSTILE_TITLE}"\ndate: 2024-05-01\nsummary: "{HOSTILE_SUMMARY}"\n---\n'
        "The body of the article.\n"
    ),
    "seeds/001_0000000000000001.txt": "Bruxelles – Un articolo senza data, con un testo.\n",
}


def test_markup_in_a_feed_comes_out_as_text_on_a_site_at_the_root(make_site: MakeSite) -> None:
    config, _ = build_site(make_site(HOSTILE_SITE))
    output = config.output_dir
    data = (output / "feed.xml").read_bytes()
    xsl = published(output, "feed.xsl")
    assert f'<?xml-stylesheet type="text/xsl" href="/assets/{xsl}"?>' in data.decode()
    page, written = as_page(data, output / "assets" / xsl)
    assert texts(page, "//p[@class='site-title']") == ["Prova <b>&amp;</b>"]
    titles = texts(page, "//article/h2")
    assert HOSTILE_TITLE in titles
    assert HOSTILE_SUMMARY in texts(page, "//p[@class='summary']")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in written
    assert page.xpath("//script | //img | //b") == []
    assert html_findings(written.encode(), "feed page") == []
    style = f"/assets/{published(output, 'style.css')}"
    assert page.xpath("//link[@rel='stylesheet']/@href") == [style]
    assert all(href.startswith("/articles/") for href in page.xpath("//article/h2/a/@href"))
    # The undated seed's `updated` is the build's time: no date is shown for it.
    dated = [a.xpath("h2")[0].text_content() for a in page.xpath("//article[.//time]")]
    assert dated == [HOSTILE_TITLE]
    assert len(titles) == 2


FOREIGN_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<?xml-stylesheet type="text/xsl" href="/news/assets/feed.xsl"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="pt" xml:base="https://example.org/news/">
<title>Arquivo</title>
<author><name>Arquivo</name></author>
<link rel="self" href="https://example.org/news/feed.xml"/>
<entry xml:lang="pt"><title>Script</title><link rel="alternate" href="javascript:alert(1)"/></entry>
<entry xml:lang="de"><title>Elsewhere</title><link rel="alternate" href="https://example.net/a/"/>
</entry>
<entry xml:lang="pt"><title>Here</title><link rel="alternate" href="https://example.org/news/b/"/>
</entry>
</feed>
"""


def test_links_are_http_or_the_sites_own_and_unknown_languages_read_english() -> None:
    """A feed written by hand: a script URL is no link, another host's link stays whole, the
    site's own becomes its path; words the stylesheet has no translation for are English and
    marked so."""
    page, _ = as_page(FOREIGN_FEED)
    assert page.xpath("//article/h2/a/@href") == ["https://example.net/a/", "/news/b/"]
    assert texts(page, "//article/h2") == ["Script", "Elsewhere", "Here"]
    assert page.get("lang") == "pt"
    assert page.xpath("//*[@class='feed-about']/@lang") == ["en"]
    assert texts(page, "//*[@class='feed-about']/p")[0].startswith("This is an Atom feed")
    assert page.xpath("//link[@rel='stylesheet']/@href") == ["/news/assets/style.css"]


# --- the page in Chromium -----------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_chromium_shows_the_feed_as_a_styled_page_without_console_errors(
    page: Page, sample_site: tuple[Config, BuildResult], scheme: Literal["light", "dark"]
) -> None:
    """Chromium transforms XML served with an XML content type (the test server sends
    application/xml for .xml, as static hosts do); it warns that XSLT is deprecated, which is
    a warning, not an error. The page has the site's colours: style.css is applied."""
    output = sample_site[0].output_dir
    titles = [e.title for e in feedparser.parse((output / "feed.xml").read_bytes()).entries]
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    def failed(error: Error) -> None:
        errors.append(error.message)

    page.emulate_media(color_scheme=scheme)
    with serve(output) as url:
        page.goto(url)
        site_colours = page.evaluate("getComputedStyle(document.body).backgroundColor")
        page.on("console", console)
        page.on("pageerror", failed)
        response = page.goto(url + "feed.xml")
        assert response is not None and response.ok
        assert response.headers["content-type"] == "application/xml"
        expect(page.locator("main article h2")).to_have_text(titles)
        assert page.evaluate("document.contentType") == "text/html"
        assert page.evaluate("document.documentElement.lang") == "it"
        expect(page.locator("h1")).to_have_text("Archivio di prova")
        colours = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert colours == site_colours
    assert errors == []


def test_the_dark_feed_page_is_not_the_light_one(
    page: Page, sample_site: tuple[Config, BuildResult]
) -> None:
    backgrounds = []
    schemes: tuple[Literal["light", "dark"], ...] = ("light", "dark")
    with serve(sample_site[0].output_dir) as url:
        for scheme in schemes:
            page.emulate_media(color_scheme=scheme)
            page.goto(url + "feed.xml")
            expect(page.locator("h1")).to_have_count(1)
            backgrounds.append(page.evaluate("getComputedStyle(document.body).backgroundColor"))
    assert backgrounds[0] != backgrounds[1]
