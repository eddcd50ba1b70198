"""The built site as readers, crawlers and validators see it: the W3C Nu checker, internal
links under a sub-path, structured data read by extruct, navigation, languages, dates."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import extruct
import pytest
from lxml import html as lxml_html

from newsgen import cli, i18n
from newsgen.build import BuildResult
from newsgen.config import Config
from tests.conftest import MakeSite, build_site, copy_demo_site
from tests.site_pages import KINDS, SUB_PATH, broken_links
from tests.util import VNU_COMMAND

BASE = "https://example.org/archivio/"
LANGUAGES = ("it", "en", "fr", "de", "es")
# The feeds name the theme's stylesheet under its published name (a hash of its content).
FEED_START = re.compile(
    r'<\?xml version="1.0" encoding="utf-8"\?>\n'
    r'<\?xml-stylesheet type="text/xsl" href="/archivio/assets/feed\.[0-9a-f]{8}\.xsl"\?>\n<feed '
)


def parse(path: Path) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(path.read_bytes())


def texts(tree: lxml_html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in tree.xpath(xpath)]


def page(sample: tuple[Config, BuildResult], kind: str) -> lxml_html.HtmlElement:
    return parse(sample[0].output_dir / KINDS[kind])


# --- validators -----------------------------------------------------------------------------


def test_w3c_nu_checker_finds_no_errors_in_the_sample_site(
    sample_site: tuple[Config, BuildResult],
) -> None:
    output = sample_site[0].output_dir
    pages = sorted(output.rglob("*.html"))
    assert {str(p.relative_to(output)) for p in pages} >= set(KINDS.values())
    run = subprocess.run(
        [*VNU_COMMAND, "--errors-only", "--format", "json", *map(str, pages)],
        capture_output=True,
        text=True,
        check=False,
    )
    messages = json.loads(run.stderr or run.stdout)["messages"]
    assert [f"{m.get('url')}: {m.get('message')}" for m in messages] == []
    assert run.returncode == 0


def test_every_link_of_the_sample_site_resolves_under_its_sub_path(
    sample_site: tuple[Config, BuildResult],
) -> None:
    checked, broken = broken_links(sample_site[0].output_dir, SUB_PATH)
    assert broken == []
    assert checked > 500


def test_every_link_of_the_demo_site_resolves_built_with_base_url_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out"
    base = "https://example.org/notizie/archivio/"
    site = copy_demo_site(tmp_path / "demo")
    args = ["build", "--site", str(site), "--output", str(output), "--base-url", base, "-q"]
    assert cli.main(args) == 0
    assert capsys.readouterr() == ("", "")
    checked, broken = broken_links(output, "/notizie/archivio/")
    assert broken == []
    assert checked > 4000
    assert "Sitemap: https://example.org/notizie/archivio/sitemap.xml" in (
        output / "robots.txt"
    ).read_text(encoding="utf-8")


def test_base_url_option_overrides_the_config_for_one_build_only(make_site: MakeSite) -> None:
    site = make_site(
        {
            "newsgen.yaml": "base_url: https://example.org/archivio/\n",
            "seeds/001_0000000000000001.txt": "Berlin – Ein kurzer Artikel über den Regen.\n",
        }
    )
    assert cli.main(["build", "--site", str(site), "-q", "--base-url", "https://m.example/"]) == 0
    front = (site / "build" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://m.example/">' in front
    assert re.search(r'href="/assets/style\.[0-9a-f]{8}\.css"', front)
    assert cli.main(["build", "--site", str(site), "-q"]) == 0
    front = (site / "build" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="https://example.org/archivio/">' in front
    assert re.search(r'href="/archivio/assets/style\.[0-9a-f]{8}\.css"', front)


# --- structured data ------------------------------------------------------------------------


def structured(sample: tuple[Config, BuildResult], kind: str) -> dict[str, list[dict[str, object]]]:
    source = (sample[0].output_dir / KINDS[kind]).read_text(encoding="utf-8")
    data: dict[str, list[dict[str, object]]] = extruct.extract(
        source, base_url=BASE, syntaxes=["json-ld", "opengraph"], uniform=True
    )
    return data


def test_article_json_ld_is_a_news_article_with_every_field(
    sample_site: tuple[Config, BuildResult],
) -> None:
    [data] = structured(sample_site, "article (it, undated, lead-in, source images)")["json-ld"]
    url = BASE + KINDS["article (it, undated, lead-in, source images)"].removesuffix("index.html")
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == (
        "Il governo federale del Belgio ha annunciato che espellerà 21 diplomatici russi "
        "dall’Ambasciata russa a Bruxelles e dal Consolato Generale ad Anversa…"
    )
    assert data["inLanguage"] == "it"
    assert data["image"] == [
        "https://www.eunews.it/wp-content/uploads/2025/12/"
        "80e7e8f3-c691-4833-912d-fc86a6077194-350x250.jpg"
    ]
    assert data["contentLocation"] == {"@type": "Place", "name": "Bruxelles"}
    assert data["publisher"] == {"@type": "Organization", "name": "Archivio di prova"}
    assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": url}
    assert "datePublished" not in data


def test_dated_article_json_ld_has_its_publication_date(
    sample_site: tuple[Config, BuildResult],
) -> None:
    [data] = structured(sample_site, "article (fr, dated, tags)")["json-ld"]
    assert data["datePublished"] == "2012-07-03"
    assert data["inLanguage"] == "fr"
    assert data["contentLocation"] == {"@type": "Place", "name": "Québec"}
    assert data["keywords"] == ["langue française", "Québec"]


def test_article_opengraph_and_twitter_card(sample_site: tuple[Config, BuildResult]) -> None:
    [og] = structured(sample_site, "article (it, undated, lead-in, source images)")["opengraph"]
    url = BASE + KINDS["article (it, undated, lead-in, source images)"].removesuffix("index.html")
    assert og["@type"] == "article"
    assert og["og:title"] == (
        "Il governo federale del Belgio ha annunciato che espellerà 21 diplomatici russi "
        "dall’Ambasciata russa a Bruxelles e dal Consolato Generale ad Anversa…"
    )
    assert og["og:url"] == url
    assert og["og:locale"] == "it_IT"
    assert str(og["og:image"]).startswith("https://www.eunews.it/")
    tree = page(sample_site, "article (it, undated, lead-in, source images)")
    assert tree.xpath("//link[@rel='canonical']/@href") == [url]
    assert tree.xpath("//meta[@name='twitter:card']/@content") == ["summary_large_image"]
    [fr] = structured(sample_site, "article (fr, dated, tags)")["opengraph"]
    assert (fr["og:locale"], "og:image" in fr) == ("fr_FR", False)


def test_listing_pages_carry_no_article_metadata(sample_site: tuple[Config, BuildResult]) -> None:
    data = structured(sample_site, "month")
    assert (data["json-ld"], data["opengraph"]) == ([], [])


# --- navigation -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_page_has_landmarks_a_skip_link_and_the_header_links(
    sample_site: tuple[Config, BuildResult], kind: str
) -> None:
    tree = page(sample_site, kind)
    first_link = tree.xpath("//body//a")[0]
    assert (first_link.get("href"), first_link.get("class")) == ("#main", "skip")
    assert len(tree.xpath("//main[@id='main']")) == 1
    assert len(tree.xpath("//body/header")) == len(tree.xpath("//body/footer")) == 1
    assert all(nav.get("aria-label") for nav in tree.xpath("//nav"))
    # The sample site has articles in several languages, so the header links their index.
    assert tree.xpath("//body/header/nav[@aria-label='Principale']//a/@href") == [
        SUB_PATH + path for path in ("archive/", "places/", "tags/", "languages/")
    ]
    assert texts(tree, "//body/header/nav//a") == ["Archivio", "Luoghi", "Argomenti", "Lingue"]
    assert tree.xpath("//body/header//a[@href='/archivio/']/text()") == ["Archivio di prova"]
    assert tree.xpath("//body/header/a[@class='search-link']/@href") == ["/archivio/search/"]
    assert tree.xpath("//body/header/form[@role='search']/@action") == ["/archivio/search/"]
    # Feeds are linked from the footer (and from each listing), never from the header.
    assert [h for h in tree.xpath("//body/header//a/@href") if "feed" in h] == []
    assert tree.xpath("//body/footer//a[.='Atom']/@href") == ["/archivio/feed.xml"]
    assert len(tree.xpath("//h1")) == 1


def test_the_search_page_searches_with_the_header_s_box(
    sample_site: tuple[Config, BuildResult],
) -> None:
    """One search box on the search page: the header's, which the page's script fills."""
    tree = parse(sample_site[0].output_dir / "search" / "index.html")
    [form] = tree.xpath("//body/header//form")
    assert form.get("action") == "/archivio/search/"
    assert tree.xpath("//main//form") == []
    assert tree.xpath("//body/header/a[@class='search-link']/@href") == ["/archivio/search/"]


@pytest.mark.parametrize(
    ("kind", "trail"),
    [
        ("archive", ["Home", "Archivio"]),
        ("year", ["Home", "Archivio", "2012"]),
        ("month", ["Home", "Archivio", "2012", "Luglio 2012"]),
        ("undated", ["Home", "Archivio", "Senza data"]),
        ("places", ["Home", "Luoghi"]),
        ("place", ["Home", "Luoghi", "Bruxelles"]),
        ("tags", ["Home", "Argomenti"]),
        ("tag", ["Home", "Argomenti", "COVID-19"]),
        ("languages", ["Home", "Lingue"]),
        ("language", ["Home", "Lingue", "Francese"]),
        ("article (fr, dated, tags)", ["Home", "Archivio", "2012", "Luglio 2012"]),
    ],
)
def test_breadcrumbs(sample_site: tuple[Config, BuildResult], kind: str, trail: list[str]) -> None:
    tree = page(sample_site, kind)
    assert texts(tree, "//nav[@class='crumbs']//li") == trail
    current = tree.xpath("//nav[@class='crumbs']//a[@aria-current='page']/@href")
    expected = [] if kind.startswith("article") else [SUB_PATH + KINDS[kind][: -len("index.html")]]
    assert current == expected


def test_listing_pages_link_prev_and_next_in_head_and_number_their_pages(
    sample_site: tuple[Config, BuildResult],
) -> None:
    output = sample_site[0].output_dir
    first, second, last = (
        parse(output / f) for f in ("index.html", "page/2/index.html", "page/4/index.html")
    )
    assert first.xpath("//head/link[@rel='prev']") == []
    assert first.xpath("//head/link[@rel='next']/@href") == ["/archivio/page/2/"]
    assert second.xpath("//head/link[@rel='prev']/@href") == ["/archivio/"]
    assert second.xpath("//head/link[@rel='next']/@href") == ["/archivio/page/3/"]
    assert last.xpath("//head/link[@rel='next']") == []
    assert not (output / "page" / "5").exists()
    assert texts(first, "//h1") == ["Ultimi articoli"]
    assert texts(second, "//h1") == ["Pagina 2 di 4"]
    assert texts(second, "//title") == ["Pagina 2 di 4 · Archivio di prova"]
    pager = "//nav[@class='pager'][@aria-label='Paginazione']"
    steps = [(a.get("rel"), a.get("href")) for a in second.xpath(f"{pager}/a[@class='step']")]
    assert steps == [("prev", "/archivio/"), ("next", "/archivio/page/3/")]
    assert texts(second, f"{pager}/a") == ["← Più recenti", "Meno recenti →"]
    assert texts(first, f"{pager}/a") == ["Meno recenti →"]
    assert texts(last, f"{pager}/a") == ["← Più recenti"]
    numbers = [
        (a.text, a.get("href"), a.get("aria-label"), a.get("aria-current"))
        for a in second.xpath(f"{pager}/ol/li/a")
    ]
    assert numbers == [
        ("1", "/archivio/", "Pagina 1", None),
        ("2", "/archivio/page/2/", "Pagina 2", "page"),
        ("3", "/archivio/page/3/", "Pagina 3", None),
        ("4", "/archivio/page/4/", "Pagina 4", None),
    ]


def test_a_listing_s_later_page_names_its_number_after_the_heading(
    sample_site: tuple[Config, BuildResult],
) -> None:
    tree = parse(sample_site[0].output_dir / "languages" / "fr" / "page" / "2" / "index.html")
    assert texts(tree, "//h1") == ["Francese Pagina 2 di 2"]
    assert texts(tree, "//h1/span[@class='page-number']") == ["Pagina 2 di 2"]
    assert texts(tree, "//title") == ["Francese · Pagina 2 di 2 · Archivio di prova"]
    assert tree.xpath("//nav[@class='pager']/a/@rel") == ["prev"]


def test_a_long_listing_leaves_a_gap_for_the_numbers_it_does_not_show(
    make_site: MakeSite,
) -> None:
    seeds = {
        f"seeds/00{n}_000000000000000{n}.txt": f"Roma – Notizia numero {n} sul tempo.\n"
        for n in range(1, 7)
    }
    config, _ = build_site(make_site({**seeds, "newsgen.yaml": "language: it\nper_page: 1\n"}))
    front = parse(config.output_dir / "index.html")
    items = front.xpath("//nav[@class='pager']/ol/li")
    assert [" ".join(li.text_content().split()) for li in items] == ["1", "2", "3", "…", "6"]
    assert [(li.get("class"), li.get("aria-hidden")) for li in items][3] == ("gap", "true")
    assert front.xpath("//nav[@class='pager']/ol/li/a/@href")[-1] == "/page/6/"


def test_archive_pages_show_years_and_months_with_counts(
    sample_site: tuple[Config, BuildResult],
) -> None:
    archive = page(sample_site, "archive")
    assert texts(archive, "//main//ul[@class='counts years']/li") == [
        "2020 1",
        "2012 4",
        "Senza data 6",
    ]
    assert texts(archive, "//main/h2") == ["Articoli per anno", "Sfoglia"]
    browse = archive.xpath("//main/h2[.='Sfoglia']/following-sibling::ul[1]//a")
    assert [(a.text, a.get("href")) for a in browse] == [
        ("Articoli per luogo", "/archivio/places/"),
        ("Articoli per argomento", "/archivio/tags/"),
        ("Articoli per lingua", "/archivio/languages/"),
    ]
    assert texts(page(sample_site, "year"), "//main//ul[@class='counts months']/li") == [
        "Novembre 2012 2",
        "Agosto 2012 1",
        "Luglio 2012 1",
    ]


def periods(tree: lxml_html.HtmlElement) -> list[tuple[str, str, str]]:
    links = tree.xpath("//nav[@class='periods']/a")
    return [(a.get("rel"), a.get("href"), " ".join(a.text_content().split())) for a in links]


def test_months_and_years_link_their_neighbours_with_articles(
    sample_site: tuple[Config, BuildResult],
) -> None:
    output = sample_site[0].output_dir
    assert periods(page(sample_site, "month")) == [
        ("next", "/archivio/archive/2012/08/", "Agosto 2012 →")
    ]
    assert periods(parse(output / "archive" / "2012" / "08" / "index.html")) == [
        ("prev", "/archivio/archive/2012/07/", "← Luglio 2012"),
        ("next", "/archivio/archive/2012/11/", "Novembre 2012 →"),
    ]
    assert periods(page(sample_site, "year")) == [("next", "/archivio/archive/2020/", "2020 →")]
    assert periods(parse(output / "archive" / "2020" / "index.html")) == [
        ("prev", "/archivio/archive/2012/", "← 2012")
    ]


def test_article_links_its_place_tags_and_neighbours_in_its_language(
    sample_site: tuple[Config, BuildResult],
) -> None:
    tree = page(sample_site, "article (fr, dated, tags)")
    assert tree.xpath("//p[@class='byline']/span[@class='dateline']/a/@href") == [
        "/archivio/places/quebec/"
    ]
    assert tree.xpath("//ul[@class='tag-list']//a/@href") == [
        "/archivio/tags/langue-francaise/",
        "/archivio/tags/quebec/",
    ]
    # The oldest French article: no previous one in French, though older ones in Italian.
    [link] = tree.xpath("//nav[@class='prevnext']/a")
    assert (link.get("rel"), link.get("href")) == (
        "next",
        "/archivio/articles/rafael-correa-president-de-la-republique-equatorienne-a-decide-hier-"
        "jeudi-16/",
    )
    assert [(s.get("lang"), s.text) for s in link.findall("span")] == [
        (None, "Successivo"),
        (
            "fr",
            "Rafael Correa, président de la république équatorienne, a décidé hier, jeudi 16 "
            "août 2012, d'accorder l'asile politique",
        ),
    ]
    assert tree.xpath("//p[@class='to-top']/a/@href") == ["#top"]
    assert tree.xpath("//body/header/@id") == ["top"]


def test_an_article_alone_in_its_language_has_no_empty_article_nav(
    sample_site: tuple[Config, BuildResult],
) -> None:
    """The sample site's only German article: a navigation landmark with no link in it is
    noise to a screen reader."""
    assert page(sample_site, "article (de)").xpath("//nav[@class='prevnext']") == []


def test_a_lede_headline_is_set_in_place_under_its_linked_dateline(
    sample_site: tuple[Config, BuildResult],
) -> None:
    tree = page(sample_site, "article (it, undated, lead-in, source images)")
    [story] = tree.xpath("//article[@lang='it']")
    assert story.get("class") == "story lead-titled"
    assert texts(story, ".//h1") == [
        "Il governo federale del Belgio ha annunciato che espellerà 21 diplomatici russi "
        "dall’Ambasciata russa a Bruxelles e dal Consolato Generale ad Anversa…"
    ]
    first = story.xpath(".//div[@class='body']/p[1]")[0]
    assert first.xpath("span[@class='kicker']/a/@href") == ["/archivio/places/bruxelles/"]
    assert texts(first, "span[@class='kicker']") == ["Bruxelles –"]
    [lead] = texts(first, "span[@class='lead-in long']")
    assert lead.startswith(
        "Il governo federale del Belgio ha annunciato che espellerà 21 diplomatici russi "
        "dall’Ambasciata russa a Bruxelles"
    )
    # The dateline is above the lead-in, so the byline does not repeat it.
    assert story.xpath(".//p[@class='byline']/span[@class='dateline']") == []
    assert texts(story, ".//p[@class='byline']/span[@class='reading']") == ["Lettura: 1 min"]


def test_the_source_images_are_shown_under_their_own_heading_outside_the_article(
    sample_site: tuple[Config, BuildResult],
) -> None:
    tree = page(sample_site, "article (it, undated, lead-in, source images)")
    assert tree.xpath("//article//figure") == []
    [section] = tree.xpath("//main/section[@class='source-images']")
    assert texts(section, "h2") == ["Immagini dalla pagina originale"]
    assert section.xpath("h2/@lang") == ["it"]
    assert section.xpath(".//img/@src") == [
        "https://www.eunews.it/wp-content/uploads/2025/12/"
        "80e7e8f3-c691-4833-912d-fc86a6077194-350x250.jpg",
        "https://www.eunews.it/wp-content/uploads/2025/12/van-kyr-350x250.png",
    ]
    # They are not articles of this archive: no related section claims them.
    assert tree.xpath("//section[@class='related']") == []


def test_languages_are_listed_with_counts_and_each_has_a_listing_and_a_feed(
    sample_site: tuple[Config, BuildResult],
) -> None:
    output = sample_site[0].output_dir
    index = page(sample_site, "languages")
    assert texts(index, "//h1") == ["Articoli per lingua"]
    assert texts(index, "//main//ul[@class='counts columns']/li") == [
        "Tedesco 1",
        "Inglese 3",
        "Francese 4",
        "Italiano 3",
    ]
    french = page(sample_site, "language")
    assert texts(french, "//h1") == ["Francese"]
    assert french.xpath("//p[@class='feed-link']/a/@href") == ["/archivio/languages/fr/feed.xml"]
    assert french.xpath("//head/link[@type='application/atom+xml']/@href") == [
        "/archivio/languages/fr/feed.xml",
        "/archivio/feed.xml",
    ]
    assert {t.get("lang") for t in french.xpath("//article[@class='teaser']")} == {"fr"}
    feed = (output / "languages" / "fr" / "feed.xml").read_text(encoding="utf-8")
    assert FEED_START.match(feed)
    assert "<title>Archivio di prova · Francese</title>" in feed
    assert feed.count('<entry xml:lang="fr">') == 4


# --- languages and dates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "story", "date", "reading"),
    [
        ("article (fr, dated, tags)", "fr", ["3 juillet 2012"], "Lettura: 2 min"),
        ("article (de)", "de", [], "Lettura: 1 min"),
        ("article (it, undated, lead-in, source images)", "it", [], "Lettura: 1 min"),
        ("month", None, [], None),
        ("language", None, [], None),
        ("not found", None, [], None),
    ],
)
def test_the_interface_speaks_the_site_language_and_an_article_its_own(
    sample_site: tuple[Config, BuildResult],
    kind: str,
    story: str | None,
    date: list[str],
    reading: str | None,
) -> None:
    tree = page(sample_site, kind)
    assert (tree.get("lang"), tree.get("dir")) == ("it", "ltr")
    assert texts(tree, "//a[@class='skip']") == ["Vai al contenuto"]
    assert tree.xpath("//body/header/nav/@aria-label") == ["Principale"]
    assert texts(tree, "//body/header/nav//li")[0] == "Archivio"
    assert tree.xpath("//p[@class='site-title']/@lang") == ["it"]
    stories = tree.xpath("//article[contains(concat(' ', @class, ' '), ' story ')]")
    assert [s.get("lang") for s in stories] == ([story] if story else [])
    # The date in the article's language; the reading time, inside it, in the site's.
    assert [t for s in stories for t in texts(s, ".//p[@class='byline']/time")] == date
    spans = [r for s in stories for r in s.xpath(".//p[@class='byline']/span[@class='reading']")]
    assert [(s.get("lang"), s.text) for s in spans] == ([("it", reading)] if reading else [])


def test_teasers_carry_their_own_language_and_date_format(
    sample_site: tuple[Config, BuildResult],
) -> None:
    tree = page(sample_site, "front page")
    teasers = tree.xpath("//article[@class='teaser']")
    assert [(t.get("lang"), texts(t, ".//time")) for t in teasers] == [
        ("en", ["April 5, 2020"]),
        ("fr", ["11 novembre 2012"]),
        ("fr", ["2 novembre 2012"]),
    ]
    # The language of an article not in the site's is named in the site's language.
    marks = [m for t in teasers for m in t.xpath(".//span[@class='lang-mark']")]
    assert [(m.get("lang"), m.text) for m in marks] == [
        ("it", "Inglese"),
        ("it", "Francese"),
        ("it", "Francese"),
    ]


def test_a_teaser_shows_what_follows_its_headline_and_no_empty_byline(
    sample_site: tuple[Config, BuildResult],
) -> None:
    tree = page(sample_site, "front page 2")
    teasers = tree.xpath("//article[@class='teaser']")
    shown = [
        (texts(t, "h2"), texts(t, "p[@class='byline']"), texts(t, "p[@class='summary']"))
        for t in teasers
    ]
    assert shown[0] == (
        [
            "Rafael Correa, président de la république équatorienne, a décidé hier, jeudi 16 août "
            "2012, d'accorder l'asile politique"
        ],
        ["17 août 2012Francese"],
        # The headline stops at a comma: the teaser goes on from there.
        ["…au fondateur de WikiLeaks Julian Assange."],
    )
    # An Italian article with no dateline and no date: nothing to show in a byline.
    assert shown[2] == (
        [
            "Un aereo si è schiantato al suolo a Lexington, nel Kentucky, poco dopo le sei del "
            "mattino ora locale"
        ],
        [],
        ["Cinquanta persone erano a bordo dell'aereo."],
    )


SPANISH = """---
title: El foro de la lengua
lang: es
date: 2012-07-03
dateline: Quebec
---
El primer foro mundial de la lengua francesa celebra hoy su segunda jornada.
"""
GERMAN_SLUG = "ein-alterer-artikel-uber-den-regen"
EVE = """---
title: La víspera del foro
lang: es
date: 2012-07-02
---
Los delegados llegaron ayer a la ciudad para la apertura del foro.
"""


@pytest.mark.parametrize(
    ("lang", "skip", "date", "previous"),
    [
        ("es", "Saltar al contenido", "3 de julio de 2012", "Anterior"),
        ("pt", "Skip to content", "3 de julho de 2012", "Previous"),
    ],
)
def test_a_site_in_a_language_without_strings_speaks_english(
    make_site: MakeSite, lang: str, skip: str, date: str, previous: str
) -> None:
    site = make_site(
        {
            "articles/foro.md": SPANISH.replace("lang: es", f"lang: {lang}"),
            "articles/vispera.md": EVE.replace("lang: es", f"lang: {lang}"),
            "seeds/001_0000000000000001.txt": "Berlin – Ein älterer Artikel über den Regen.\n",
            "newsgen.yaml": f"language: {lang}\n",
        }
    )
    config, _ = build_site(site)
    tree = parse(config.output_dir / "articles" / "el-foro-de-la-lengua" / "index.html")
    assert tree.get("lang") == lang
    assert texts(tree, "//a[@class='skip']") == [skip]
    assert texts(tree, "//article//time") == [date]
    assert texts(tree, "//nav[@class='prevnext']/a/span[1]") == [previous]
    assert tree.xpath("//nav[@class='prevnext']/a/@href") == ["/articles/la-vispera-del-foro/"]
    # The German article's page speaks the site's language too: only its text is German.
    german = parse(config.output_dir / "articles" / GERMAN_SLUG / "index.html")
    assert (german.get("lang"), texts(german, "//a[@class='skip']")) == (lang, [skip])
    assert german.xpath("//article/@lang") == ["de"]


def test_every_language_has_every_interface_string() -> None:
    keys = set(i18n.STRINGS["en"])
    for lang in LANGUAGES:
        assert set(i18n.STRINGS[lang]) == keys, lang
        assert all(i18n.STRINGS[lang].values()), lang


@pytest.mark.parametrize(
    ("lang", "archive", "undated", "date", "month"),
    [
        ("it", "Archivio", "Senza data", "29 marzo 2022", "Marzo"),
        ("en", "Archive", "Undated", "March 29, 2022", "March"),
        ("fr", "Archives", "Sans date", "29 mars 2022", "Mars"),
        ("de", "Archiv", "Ohne Datum", "29. März 2022", "März"),
        ("es", "Archivo", "Sin fecha", "29 de marzo de 2022", "Marzo"),
        ("fr-CA", "Archives", "Sans date", "29 mars 2022", "Mars"),
        ("pt", "Archive", "Undated", "29 de março de 2022", "Março"),
        ("xx", "Archive", "Undated", "March 29, 2022", "March"),
    ],
)
def test_strings_and_dates_per_language(
    lang: str, archive: str, undated: str, date: str, month: str
) -> None:
    import datetime as dt

    assert i18n.translate(lang, "archive") == archive
    assert i18n.translate(lang, "undated") == undated
    assert i18n.format_date(dt.date(2022, 3, 29), lang) == date
    assert i18n.month_name(3, lang) == month


@pytest.mark.parametrize(
    ("lang", "locale"),
    [
        ("it", "it"),
        ("en", "en"),
        ("fr", "fr"),
        ("de", "de"),
        ("es", "es"),
        ("pt-BR", "pt_BR"),
        ("ar", "ar"),
        ("fa", "fa"),
        ("ja", "ja"),
        ("xx", "en"),  # no such locale: English dates
    ],
)
def test_dates_are_babels_long_format(lang: str, locale: str) -> None:
    """The locale and pattern are looked up once per language: the dates stay Babel's own."""
    import datetime as dt

    from babel.dates import format_date

    days = [dt.date(1999, 12, 31) + dt.timedelta(days=n * 37) for n in range(120)]
    expected = [format_date(day, format="long", locale=locale) for day in days]
    assert [i18n.format_date(day, lang) for day in days] == expected


# --- dates from datelines, places across spellings ------------------------------------------

FRENCH = (
    "3 juillet 2012. - Québec - Le premier Forum mondial de la langue française en est "
    "aujourd'hui à sa deuxième journée. Deux grandes conférences ont lieu ce jour.\n"
    "Le centre des Congrès a les yeux hors de la tête. Le monde francophone se surprend de "
    "l'existence du camfranglais, une autre invention de la jeunesse camerounaise.\n"
)


def test_a_french_dateline_with_a_date_files_the_article_under_its_month(
    make_site: MakeSite,
) -> None:
    config, result = build_site(make_site({"seeds/007_7dbeb824dd569d25.txt": FRENCH}))
    assert result.problems == ()
    month = parse(config.output_dir / "archive" / "2012" / "07" / "index.html")
    assert texts(month, "//article[@class='teaser']//h2") == [
        "Le premier Forum mondial de la langue française en est aujourd'hui à sa deuxième journée"
    ]
    assert month.xpath("//article[@class='teaser']/@lang") == ["fr"]
    assert texts(month, "//article[@class='teaser']//time") == ["3 juillet 2012"]
    assert texts(month, "//h1") == ["July 2012"]
    assert (config.output_dir / "places" / "quebec" / "index.html").is_file()


def test_case_variants_of_a_place_share_one_page(make_site: MakeSite) -> None:
    config, _ = build_site(
        make_site(
            {
                "seeds/001_0000000000000001.txt": "BRUXELLES – Il Belgio espelle diplomatici.\n",
                "seeds/002_0000000000000002.txt": "Bruxelles – La Commissione propone un piano.\n",
                "seeds/003_0000000000000003.txt": "Bruxelles – Il Consiglio approva il bilancio.\n",
                "newsgen.yaml": "language: it\n",
            }
        )
    )
    places = parse(config.output_dir / "places" / "index.html")
    assert texts(places, "//main//ul/li") == ["Bruxelles 3"]
    place = parse(config.output_dir / "places" / "bruxelles" / "index.html")
    assert len(place.xpath("//article[@class='teaser']")) == 3


def test_a_tag_named_like_an_interface_string_stays_as_written(make_site: MakeSite) -> None:
    config, _ = build_site(
        make_site(
            {
                "articles/a.md": "---\ntitle: Un titolo\ntags: [archive, feed]\n---\nTesto.\n",
                "newsgen.yaml": "language: it\n",
            }
        )
    )
    tag = parse(config.output_dir / "tags" / "feed" / "index.html")
    assert texts(tag, "//h1") == ["feed"]
    assert texts(tag, "//nav[@class='crumbs']//li") == ["Home", "Argomenti", "feed"]
    tags = parse(config.output_dir / "tags" / "index.html")
    assert texts(tags, "//main//ul/li") == ["archive 1", "feed 1"]
