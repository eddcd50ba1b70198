"""Feeds, sitemaps and robots.txt, read by real parsers: feedparser for Atom (plus the
required RFC 4287 elements, which feedparser does not check), lxml with the sitemaps.org
schema for sitemaps."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from newsgen import render, theme
from newsgen.build import BuildResult
from newsgen.config import Config
from newsgen.plan import SITEMAP_LIMIT, sitemaps
from tests.conftest import SAMPLE, MakeSite, build_site

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SCHEMA = Path(__file__).resolve().parent / "data" / "sitemap.xsd"
BASE = "https://example.org/archivio/"


def feeds_of(output: Path) -> list[Path]:
    return sorted(output.rglob("feed.xml"))


def atom_problems(path: Path) -> list[str]:
    """What RFC 4287 requires and feedparser lets pass: feed id, title, updated, an author
    for the feed or for every entry; entry id, title, updated and an alternate link; ids and
    links absolute; times in RFC 3339."""
    feed = etree.parse(str(path)).getroot()
    problems = [f"feed: no {name}" for name in ("id", "title", "updated") if not _text(feed, name)]
    has_author = feed.find(f"{ATOM}author/{ATOM}name") is not None
    problems += _time_problems(feed, "feed")
    for n, entry in enumerate(feed.iter(f"{ATOM}entry")):
        where = f"entry {n}"
        problems += [
            f"{where}: no {name}" for name in ("id", "title", "updated") if not _text(entry, name)
        ]
        problems += _time_problems(entry, where)
        links = [
            e.get("href", "") for e in entry.iter(f"{ATOM}link") if e.get("rel") == "alternate"
        ]
        if not links or not all(link.startswith(BASE) for link in links):
            problems.append(f"{where}: no absolute alternate link: {links}")
        if ":" not in _text(entry, "id"):
            problems.append(f"{where}: id is not an IRI")
        if not has_author and entry.find(f"{ATOM}author/{ATOM}name") is None:
            problems.append(f"{where}: no author, and the feed has none")
        content = entry.find(f"{ATOM}content")
        if content is None or content.get("type") != "html" or not (content.text or "").strip():
            problems.append(f"{where}: no full content")
    return problems


def _text(element: etree._Element, name: str) -> str:
    return (element.findtext(f"{ATOM}{name}") or "").strip()


def _time_problems(element: etree._Element, where: str) -> list[str]:
    problems = []
    for name in ("updated", "published"):
        value = _text(element, name)
        if value:
            try:
                parsed = dt.datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is None or parsed.tzinfo is None or "T" not in value:
                problems.append(f"{where}: {name} {value!r} is not RFC 3339")
    return problems


def entry_ids(path: Path) -> dict[str, str]:
    """Entry link → entry id."""
    parsed = feedparser.parse(path.read_bytes())
    return {e.link: e.id for e in parsed.entries}


# --- feeds of the sample site ---------------------------------------------------------------


def test_sample_site_has_a_site_feed_and_one_per_place_tag_and_language(
    sample_site: tuple[Config, BuildResult],
) -> None:
    output = sample_site[0].output_dir
    names = [str(p.relative_to(output)) for p in feeds_of(output)]
    assert names == [
        "feed.xml",
        "languages/de/feed.xml",
        "languages/en/feed.xml",
        "languages/fr/feed.xml",
        "languages/it/feed.xml",
        "places/berlin/feed.xml",
        "places/bruxelles/feed.xml",
        "places/quebec/feed.xml",
        "tags/covid-19/feed.xml",
        "tags/health/feed.xml",
        "tags/langue-francaise/feed.xml",
        "tags/quebec/feed.xml",
    ]


def test_every_feed_parses_and_has_the_required_atom_elements(
    sample_site: tuple[Config, BuildResult],
) -> None:
    output = sample_site[0].output_dir
    checked = 0
    for path in feeds_of(output):
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, f"{path}: {parsed.get('bozo_exception')}"
        assert parsed.version == "atom10"
        assert atom_problems(path) == [], path
        url = BASE + str(path.relative_to(output))
        assert parsed.feed.id == url
        assert [link.href for link in parsed.feed.links if link.rel == "self"] == [url]
        checked += 1
    assert checked == 12


def test_site_feed_holds_the_newest_feed_size_entries_with_full_content(
    sample_site: tuple[Config, BuildResult],
) -> None:
    config = sample_site[0]
    parsed = feedparser.parse((config.output_dir / "feed.xml").read_bytes())
    assert config.feed_size == 5
    assert [e.updated[:10] for e in parsed.entries] == [
        "2020-04-05",
        "2012-11-11",
        "2012-11-02",
        "2012-08-17",
        "2012-07-03",
    ]
    assert parsed.feed.updated == "2020-04-05T00:00:00Z"
    first = parsed.entries[0]
    assert first.title == "SARS-CoV-2 surpasses one million infections worldwide"
    assert first.link == BASE + "articles/sars-cov-2-surpasses-one-million-infections-worldwide/"
    assert first.content[0].value.startswith("<p>On Thursday, the total number of cases")
    assert [t.term for t in first.tags] == ["health", "COVID-19"]


def test_place_feed_holds_that_place_only(sample_site: tuple[Config, BuildResult]) -> None:
    output = sample_site[0].output_dir
    parsed = feedparser.parse((output / "places" / "quebec" / "feed.xml").read_bytes())
    assert parsed.feed.title == "Archivio di prova · Québec"
    assert [e.title for e in parsed.entries] == [
        "Camfranglais évoqué au Forum mondial de la langue française"
    ]
    assert [link.href for link in parsed.feed.links if link.rel == "alternate"] == [
        BASE + "places/quebec/"
    ]


def test_language_feed_holds_that_language_only_in_the_sites_words(
    sample_site: tuple[Config, BuildResult],
) -> None:
    """The feed's title names the language in the site's language (Italian) and the feed
    speaks it; each entry carries its own language."""
    output = sample_site[0].output_dir
    path = output / "languages" / "fr" / "feed.xml"
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.feed.title == "Archivio di prova · Francese"
    assert [link.href for link in parsed.feed.links if link.rel == "alternate"] == [
        BASE + "languages/fr/"
    ]
    assert [e.title for e in parsed.entries] == [
        "Marc Guillemot (Safran), qui comptait parmi les favoris de cette édition du Vendée"
        " Globe, a préféré être prudent",
        "Plusieurs milliers de personnes se sont rassemblées vendredi dans le centre de Téhéran"
        " pour une manifestation anti-américaine à l'occasion du 33e…",
        "Rafael Correa, président de la république équatorienne, a décidé hier, jeudi 16 août"
        " 2012, d'accorder l'asile politique",
        "Camfranglais évoqué au Forum mondial de la langue française",
    ]
    root = etree.parse(str(path)).getroot()
    assert root.get(XML_LANG) == "it"
    assert [e.get(XML_LANG) for e in root.iter(f"{ATOM}entry")] == ["fr"] * 4


def test_language_feeds_exist_only_when_the_site_has_several_languages(
    make_site: MakeSite,
) -> None:
    files = {
        "articles/uno.md": "---\ntitle: Uno\ndate: 2022-03-28\nlang: it\n---\n\n"
        "Il consiglio ha approvato il bilancio.\n",
        "newsgen.yaml": "base_url: https://example.org/archivio/\nlanguage: it\n",
    }
    config, _ = build_site(make_site(files))
    assert [p.relative_to(config.output_dir).as_posix() for p in feeds_of(config.output_dir)] == [
        "feed.xml"
    ]
    files["articles/deux.md"] = (
        "---\ntitle: Deux\ndate: 2022-03-29\nlang: fr\n---\n\nLe conseil a voté le budget.\n"
    )
    config, _ = build_site(make_site(files))
    output = config.output_dir
    assert [p.relative_to(output).as_posix() for p in feeds_of(output)] == [
        "feed.xml",
        "languages/fr/feed.xml",
        "languages/it/feed.xml",
    ]
    for code, title in (("fr", "Deux"), ("it", "Uno")):
        parsed = feedparser.parse((output / "languages" / code / "feed.xml").read_bytes())
        assert [e.title for e in parsed.entries] == [title]


# --- stability ------------------------------------------------------------------------------


def test_entry_ids_survive_a_rebuild_a_new_article_and_a_new_base_url(
    tmp_path: Path, sample_site: tuple[Config, BuildResult]
) -> None:
    before = entry_ids(sample_site[0].output_dir / "feed.xml")
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    (site / "seeds" / "099_00000000000000aa.txt").write_text(
        "Roma, 1 gennaio 2030 – Un articolo nuovo, più recente di tutti gli altri.\n",
        encoding="utf-8",
    )
    config, _ = build_site(site, base_url="https://mirror.example.net/")
    after = entry_ids(config.output_dir / "feed.xml")
    moved = {link.replace(BASE, "https://mirror.example.net/"): i for link, i in before.items()}
    assert len(after) == 5
    assert len(set(after.values())) == 5
    assert all(after[link] == moved[link] for link in after if link in moved)
    assert len(set(after) & set(moved)) == 4
    assert all(i.startswith("urn:uuid:") for i in after.values())


UNDATED_SEEDS = {
    "seeds/001_0000000000000001.txt": "Bruxelles – Un articolo senza data, il primo.\n",
    "seeds/002_0000000000000002.txt": "Bruxelles – Un altro articolo senza data.\n",
    "newsgen.yaml": "base_url: https://example.org/archivio/\nlanguage: it\n",
}


def test_undated_entries_are_updated_at_source_date_epoch(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    config, _ = build_site(make_site(UNDATED_SEEDS))
    feed = config.output_dir / "feed.xml"
    first = feed.read_bytes()
    parsed = feedparser.parse(first)
    assert parsed.bozo == 0
    assert atom_problems(feed) == []
    assert parsed.feed.updated == "2023-11-14T22:13:20Z"
    assert [e.updated for e in parsed.entries] == ["2023-11-14T22:13:20Z"] * 2
    assert all("published" not in e for e in parsed.entries)
    shutil.rmtree(config.output_dir)
    build_site(config.root)
    assert feed.read_bytes() == first


def test_without_source_date_epoch_undated_entries_are_at_the_epoch(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    config, _ = build_site(make_site(UNDATED_SEEDS))
    parsed = feedparser.parse((config.output_dir / "feed.xml").read_bytes())
    assert [e.updated for e in parsed.entries] == ["1970-01-01T00:00:00Z"] * 2


def test_a_time_with_an_offset_keeps_it_in_the_feed(make_site: MakeSite) -> None:
    """08:30 in Rome is written as such, not as 08:30 UTC; the newest entry is the latest
    instant (07:00Z is after 08:30+02:00), not the latest clock time; a date alone is
    midnight UTC, and compares with times."""
    site = make_site(
        {
            "articles/roma.md": "---\ntitle: Roma\ndate: 2022-03-29T08:30:00+02:00\n---\n\n"
            "Il consiglio ha approvato il bilancio.\n",
            "articles/londra.md": "---\ntitle: Londra\ndate: 2022-03-29T07:00:00+00:00\n---\n\n"
            "Il parlamento ha approvato la legge.\n",
            "articles/berlino.md": "---\ntitle: Berlino\ndate: 2022-03-28\n---\n\n"
            "Il Bundestag ha approvato il bilancio.\n",
            "newsgen.yaml": "base_url: https://example.org/archivio/\nlanguage: it\n",
        }
    )
    config, _ = build_site(site)
    feed = config.output_dir / "feed.xml"
    assert atom_problems(feed) == []
    root = etree.parse(str(feed)).getroot()
    entries = [
        (_text(e, "title"), _text(e, "updated"), _text(e, "published"))
        for e in root.iter(f"{ATOM}entry")
    ]
    assert entries == [
        ("Londra", "2022-03-29T07:00:00Z", "2022-03-29T07:00:00Z"),
        ("Roma", "2022-03-29T08:30:00+02:00", "2022-03-29T08:30:00+02:00"),
        ("Berlino", "2022-03-28T00:00:00Z", "2022-03-28T00:00:00Z"),
    ]
    assert _text(root, "updated") == "2022-03-29T07:00:00Z"


# --- sitemaps and robots.txt ----------------------------------------------------------------


def sitemap_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def test_sitemap_validates_and_lists_every_page_by_absolute_url(
    sample_site: tuple[Config, BuildResult],
) -> None:
    output = sample_site[0].output_dir
    document = etree.parse(str(output / "sitemap.xml"))
    schema = sitemap_schema()
    assert schema.validate(document), schema.error_log
    locs = [e.text or "" for e in document.iter(f"{SITEMAP_NS}loc")]
    folders = (p.relative_to(output).parent.as_posix() for p in output.rglob("index.html"))
    pages = [BASE if f == "." else f"{BASE}{f}/" for f in folders]
    assert sorted(locs) == sorted(pages)
    assert BASE in locs
    assert BASE + "archive/2012/07/" in locs


def test_robots_txt_names_the_sitemap(sample_site: tuple[Config, BuildResult]) -> None:
    robots = (sample_site[0].output_dir / "robots.txt").read_text(encoding="utf-8")
    assert robots.splitlines() == [
        "User-agent: *",
        "Allow: /",
        "",
        f"Sitemap: {BASE}sitemap.xml",
    ]


def test_a_sitemap_index_and_its_parts_render_valid(tmp_path: Path) -> None:
    site = theme.Site(
        title="T",
        base_url=BASE,
        base_path="/archivio/",
        language="en",
        build_time=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )
    env = render.environment(tmp_path / "templates", site)
    urls = [f"/articles/a{n}/" for n in range(SITEMAP_LIMIT + 1)]
    pages = [p for p in sitemaps(urls) if p.url != "/robots.txt"]
    rendered = {p.url: render.render_page(env, p, lambda a: "") for p in pages}
    index = etree.fromstring(rendered.pop("/sitemap.xml"))
    assert index.tag == f"{SITEMAP_NS}sitemapindex"
    assert [e.findtext(f"{SITEMAP_NS}loc") for e in index] == [
        BASE + "sitemap-1.xml",
        BASE + "sitemap-2.xml",
    ]
    schema = sitemap_schema()
    counts = []
    for data in rendered.values():
        part = etree.fromstring(data)
        assert schema.validate(part), schema.error_log
        counts.append(len(part))
    assert counts == [SITEMAP_LIMIT, 1]
