"""Search: sharding and records (pure), incremental indexing, and the search page in Chromium
against the built sample site served on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from newsgen import cache, cbor, cli, search
from newsgen.build import BuildResult
from newsgen.config import Config
from newsgen.records import Article
from newsgen.search import canonical_bundle
from tests.conftest import SAMPLE, MakeSite, build_site
from tests.site_pages import serve

SEED_URL = (
    "articles/il-governo-federale-del-belgio-ha-annunciato-che-espellera-21-diplomatici-russi/"
)
GERMAN_URL = "articles/die-bundesregierung-hat-am-mittwoch-ein-neues-gesetz-zum-schutz-von-mooren/"
# The search page as assets/search.js draws it.
BOX = ".site-search input[type=search]"
LINK = ".search-result-title a"
FILTER = ".search-filter summary"


def article(**fields: object) -> Article:
    values: dict[str, object] = {
        "id": "a1",
        "path": "seeds/a.txt",
        "order": 0,
        "title": "Titolo",
        "slug": "titolo",
        "lang": "it",
        "dateline": "Roma",
        "date": dt.date(2022, 3, 29),
        "published": None,
        "summary": "",
        "tags": (),
        "related": (),
        "image": None,
        "body_key": "k1",
    }
    values.update(fields)
    return Article(**values)  # type: ignore[arg-type]


# --- pure -----------------------------------------------------------------------------------


def test_bucket_count_doubles_past_the_shard_size() -> None:
    size = search.SHARD_SIZE
    counts = [search.bucket_count(n) for n in (0, size, size + 1, 2 * size, 2 * size + 1)]
    assert counts == [1, 1, 2, 2, 4]


def test_a_large_archive_has_few_shards_and_an_edit_reindexes_a_tenth_at_most() -> None:
    """The browser loads every shard's metadata and an index chunk per shard and word: 100k
    articles in three languages are 56 shards (they were 128) of 2,500 articles at most (the
    memory of indexing one), and the largest holds at most a tenth of the archive, which is
    what one edit re-indexes."""
    sizes = [search.shard_size(n) for n in (0, 10_000, 16_000, 32_000, 100_000, 10**6)]
    assert sizes == [1000, 1000, 1000, 2000, 2500, 2500]
    for total, languages in ((10_000, (5000, 3000, 2000)), (100_000, (50_000, 30_000, 20_000))):
        size = search.shard_size(total)
        counts = [search.bucket_count(n, size) for n in languages]
        largest = max(n / count for n, count in zip(languages, counts, strict=True))
        assert largest <= total / 10, (total, counts)
        assert sum(counts) == {10_000: 14, 100_000: 56}[total]


def test_large_shards_are_indexed_fewer_at_once() -> None:
    """Two shards of 2,250 articles at once took the indexing of 100k to 1.09 GB."""

    def shards(*sizes: int) -> list[search.Shard]:
        return [
            search.Shard(name=f"en-{n}", lang="en", articles=(article(),) * size, digest="")
            for n, size in enumerate(sizes)
        ]

    assert search.jobs_for(shards(1000, 900), 2) == 2
    assert search.jobs_for(shards(1000, 2250), 2) == 1
    assert search.jobs_for(shards(800, 1000, 1000), 4) == 3
    assert search.jobs_for(shards(5000), 2) == 1
    assert search.jobs_for([], 2) == 2


def test_an_article_keeps_its_bucket_between_builds() -> None:
    """Doubling the buckets splits each in two: an article moves only to its bucket's twin."""
    ids = [f"{n:016x}" for n in range(0, 2**64, 2**64 // 500)]
    for count in (2, 4, 8, 16):
        assert all(
            search.bucket_of(i, count) % (count // 2) == search.bucket_of(i, count // 2)
            for i in ids
        )
    assert {search.bucket_of(i, 16) for i in ids} == set(range(16))
    assert [search.bucket_of("4c3b1bedbc3a3e95", n) for n in (1, 2, 4, 8)] == [0, 1, 1, 1]


def test_shards_split_by_language_site_language_first() -> None:
    articles = [
        article(id="1", slug="a", lang="de"),
        article(id="2", slug="b", lang="it"),
        article(id="3", slug="c", lang="de"),
        article(id="4", slug="d", lang="en", draft=True),
    ]
    shards = search.shard_site(articles, "it")
    assert [(s.name, [a.slug for a in s.articles]) for s in shards] == [
        ("it-0", ["b"]),
        ("de-0", ["a", "c"]),
    ]


def test_digest_changes_with_the_body_and_only_in_its_shard() -> None:
    before = search.shard_site([article(id="1", lang="de"), article(id="2", lang="it")], "it")
    after = search.shard_site(
        [article(id="1", lang="de"), article(id="2", lang="it", body_key="k2")], "it"
    )
    assert [s.digest == t.digest for s, t in zip(before, after, strict=True)] == [False, True]


def test_body_text_keeps_words_apart_and_unescapes() -> None:
    html = "<p>Roma – <em>prima</em> riga</p>\n<p>Seconda&nbsp;&amp; ultima</p><ul><li>uno</li>"
    assert search.body_text(html) == "Roma – prima riga Seconda & ultima uno"


def test_record_holds_headline_dateline_body_and_localised_filters() -> None:
    record = search.make_record(article(lang="de"), "<p>Berlin – Text.</p>", "it")
    assert record == search.Record(
        url="/articles/titolo/",
        lang="de",
        title="Titolo",
        content="Berlin – Text.",
        filters={"Lingua": ["tedesco"], "Luogo": ["Roma"], "Anno": ["2022"]},
        meta={"title": "Titolo", "lang": "de", "place": "Roma", "date": "2022-03-29"},
    )


def test_undated_article_without_place_has_the_language_and_undated_year_filters() -> None:
    record = search.make_record(article(dateline=None, date=None), "<p>x</p>", "en")
    assert record.filters == {"Language": ["Italian"], "Year": ["–"]}
    assert record.meta == {"title": "Titolo", "lang": "it"}


@pytest.mark.parametrize(
    ("text", "title", "content"),
    [
        ("Roma – Il governo ha deciso. Poi altro.", "Il governo ha deciso.", "Poi altro."),
        ("17 août 2012. - Rafael Correa a décidé. Puis.", "Rafael Correa a décidé.", "Puis."),
        ("Il governo ha deciso oggi, dopo mesi.", "Il governo ha deciso oggi…", "dopo mesi."),
        (
            "Tutt'altro testo. Il governo ha deciso.",
            "Il governo ha deciso.",
            "Tutt'altro testo. Il governo ha deciso.",
        ),
        ("Il governo ha deciso.", "Il governo ha deciso.", "Il governo ha deciso."),
        (
            "x" * 81 + " Il governo ha deciso. Poi.",
            "Il governo ha deciso.",
            "x" * 81 + " Il governo ha deciso. Poi.",
        ),
    ],
)
def test_the_searched_body_leaves_out_a_headline_it_begins_with(
    text: str, title: str, content: str
) -> None:
    """The excerpt then never repeats the result's heading; a body that is only its headline
    is kept whole (else the article had no text to find), and a headline met further than a
    dateline's length into the body is the body's own sentence."""
    assert search.without_headline(text, title) == content


def test_verbose_build_prints_the_index_figures() -> None:
    report = search.IndexReport(shards=16, indexed=1, records=542, seconds=3.634, bytes=29_412_000)
    assert cli.search_summary(report) == (
        "Search index: 1 of 16 shards indexed (542 articles) in 3.63 s; 29.4 MB."
    )


# --- indexing -------------------------------------------------------------------------------


def test_build_writes_one_bundle_per_language(sample_site: tuple[Config, BuildResult]) -> None:
    config, result = sample_site
    root = config.output_dir / "pagefind"
    manifest = json.loads((root / "shards.json").read_text(encoding="utf-8"))
    assert [(s["name"], s["articles"]) for s in manifest["shards"]] == [
        ("it-0", 3),
        ("de-0", 1),
        ("en-0", 3),
        ("fr-0", 4),
    ]
    assert not (root / "pagefind-ui.js").exists()
    for shard in manifest["shards"]:
        entry = json.loads((root / shard["name"] / "pagefind-entry.json").read_text("utf-8"))
        hashes = [language["hash"] for language in entry["languages"].values()]
        assert [(root / shard["name"] / f"pagefind.{h}.pf_meta").is_file() for h in hashes] == [
            True
        ]
        assert not (root / shard["name"] / "pagefind-component-ui.js").exists()
        assert not (root / shard["name"] / "pagefind-ui.js").exists()
    assert result.search is not None
    assert (result.search.shards, result.search.indexed, result.search.records) == (4, 4, 11)


def test_the_index_reads_bodies_past_a_plan_larger_than_sqlites_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write transaction larger than SQLite's page cache takes the file's exclusive lock
    until it is committed, and the index reads the bodies through another connection: with
    the plan stored and not committed, a build of 10,000 articles waited a minute and failed
    ("database is locked"). A page cache of one page makes any write that large."""
    connect = cache.Cache._connect

    def small_page_cache(self: cache.Cache) -> sqlite3.Connection:
        db = connect(self)
        db.execute("PRAGMA cache_size=1")
        return db

    monkeypatch.setattr(cache.Cache, "_connect", small_page_cache)
    monkeypatch.setattr(cache, "BUSY_SECONDS", 0.5)
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    _, result = build_site(site)
    assert result.search is not None and result.search.indexed == result.search.shards > 0
    assert result.notes == ()
    german = site / "seeds" / "020_de0a11ce5eed0001.txt"
    german.write_text(german.read_text(encoding="utf-8") + "\nTorfmoose wachsen.\n", "utf-8")
    _, edited = build_site(site)
    assert edited.search is not None and edited.search.indexed == 1
    assert edited.notes == ()


def test_rebuild_reindexes_only_the_edited_shard(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    build_site(site)
    _, unchanged = build_site(site)
    german = site / "seeds" / "020_de0a11ce5eed0001.txt"
    german.write_text(german.read_text(encoding="utf-8") + "\nTorfmoose wachsen.\n", "utf-8")
    _, edited = build_site(site)
    assert unchanged.search is not None and edited.search is not None
    assert (unchanged.search.indexed, edited.search.indexed, edited.search.records) == (0, 1, 1)


def test_site_without_articles_has_an_empty_manifest(make_site: MakeSite) -> None:
    config, result = build_site(make_site({}))
    root = config.output_dir / "pagefind"
    assert json.loads((root / "shards.json").read_text(encoding="utf-8")) == {
        "filters": ["Language", "Place", "Year"],
        "route_keys": {},
        "routes": {},
        "shards": [],
    }
    assert sorted(p.name for p in root.iterdir()) == ["shards.json"]
    assert result.search is not None and result.search.shards == 0


@pytest.mark.parametrize(
    ("language", "names"),
    [("it", ["Anno", "Lingua", "Luogo"]), ("fr", ["Année", "Langue", "Lieu"])],
)
def test_the_manifest_names_the_filters_in_alphabetical_order_accents_aside(
    make_site: MakeSite, language: str, names: list[str]
) -> None:
    """The page shows the filters in the manifest's order (no collator to set up in it)."""
    config, _ = build_site(make_site({"newsgen.yaml": f"title: T\nlanguage: {language}\n"}))
    manifest = json.loads((config.output_dir / "pagefind" / "shards.json").read_text("utf-8"))
    assert manifest["filters"] == names


def test_a_refused_request_raises_with_pagefinds_message() -> None:
    with search.PagefindService() as service, pytest.raises(search.SearchError) as caught:
        service.request({"type": "WriteFiles", "index_id": 99, "output_path": "/nowhere"})
    assert str(caught.value) == (
        "Pagefind: Invalid index, does not yet exist in the Pagefind service"
    )


def test_removed_language_loses_its_shard(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    build_site(site)
    (site / "seeds" / "020_de0a11ce5eed0001.txt").unlink()
    config, result = build_site(site)
    assert not (config.output_dir / "pagefind" / "de-0").exists()
    assert result.search is not None and result.search.shards == 3


def test_a_site_without_search_has_no_index_page_or_box(tmp_path: Path) -> None:
    """`search: false` (or --no-search): no index, no /search/ page, no link to it; turning it
    off removes the index of an earlier build, and a rebuild with nothing changed stops early."""
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    build_site(site)
    config, result = build_site(site, search=False)
    output = config.output_dir
    assert result.search is None
    assert not (output / "pagefind").exists()
    assert not (output / "search").exists()
    assert "/search/" not in (output / "sitemap.xml").read_text(encoding="utf-8")
    front = (output / "index.html").read_text(encoding="utf-8")
    assert 'role="search"' not in front and "/archivio/search/" not in front
    _, again = build_site(site, search=False)
    assert (again.written, again.enriched) == (0, 0)


# --- in the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(sample_site: tuple[Config, BuildResult]) -> Iterator[str]:
    """The sample site (base URL under /archivio/) on an ephemeral port of 127.0.0.1."""
    config, _ = sample_site
    with serve(config.output_dir, config.base_path) as url:
        yield url


@pytest.fixture(scope="module")
def served_at_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    site = tmp_path_factory.mktemp("root") / "site"
    shutil.copytree(SAMPLE, site)
    config, _ = build_site(site, base_url="http://127.0.0.1/")
    with serve(config.output_dir, config.base_path) as url:
        yield url


def _watch_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def _search(page: Page, base: str, query: str) -> None:
    page.goto(base + "search/")
    page.locator(BOX).fill(query)


@pytest.mark.parametrize("where", ["served", "served_at_root"])
def test_seed_article_comes_first(page: Page, where: str, request: pytest.FixtureRequest) -> None:
    base = request.getfixturevalue(where)
    errors = _watch_errors(page)
    _search(page, base, "diplomatici russi")
    first = page.locator(LINK).first
    expect(first).to_have_attribute("href", base.removeprefix(_origin(base)) + SEED_URL)
    expect(page.locator(".search-excerpt mark").first).to_be_visible()
    assert errors == []


def test_query_parameter_runs_the_search(page: Page, served: str) -> None:
    errors = _watch_errors(page)
    page.goto(served + "search/?q=diplomatici%20russi")
    expect(page.locator(BOX)).to_have_value("diplomatici russi")
    expect(page.locator("#search-needs-js")).to_have_count(0)
    expect(page.locator(".search-status")).to_have_text("1 risultato per «diplomatici russi»")
    expect(page.locator(LINK)).to_have_text(
        [
            "Il governo federale del Belgio ha annunciato che espellerà 21 diplomatici russi "
            "dall’Ambasciata russa a Bruxelles e dal Consolato Generale ad Anversa…"
        ]
    )
    assert errors == []


def test_header_search_box_leads_to_the_search_page(page: Page, served: str) -> None:
    page.goto(served)
    page.get_by_role("searchbox", name="Cerca nell'archivio").fill("Bundesregierung")
    page.get_by_role("searchbox", name="Cerca nell'archivio").press("Enter")
    expect(page).to_have_url(served + "search/?q=Bundesregierung")
    expect(page.locator(LINK).first).to_have_attribute(
        "href", served.removeprefix(_origin(served)) + GERMAN_URL
    )


def test_german_article_is_found_by_a_german_word(page: Page, served: str) -> None:
    _search(page, served, "Landwirte")
    found = page.locator(f'{LINK}[href="/archivio/{GERMAN_URL}"]')
    expect(found).to_have_count(1)
    page.locator(FILTER, has_text="Lingua").click()
    page.get_by_label("tedesco").check()
    expect(page.locator(LINK)).to_have_count(1)
    expect(found).to_have_count(1)


def test_language_filter_narrows_to_one_language(page: Page, served: str) -> None:
    errors = _watch_errors(page)
    _search(page, served, "president")
    links = page.locator(LINK)
    expect(links.nth(1)).to_be_visible()
    page.locator(FILTER, has_text="Lingua").click()
    counts = page.locator(".search-filter label", has_text="francese").locator(".count")
    expect(counts).to_have_text("2")
    page.get_by_label("francese").check()
    expect(links).to_have_count(2)
    hrefs = sorted(links.evaluate_all("links => links.map(a => a.getAttribute('href'))"))
    assert hrefs == [
        "/archivio/articles/camfranglais-evoque-au-forum-mondial-de-la-langue-francaise/",
        "/archivio/articles/rafael-correa-president-de-la-republique-equatorienne-a-decide-"
        "hier-jeudi-16/",
    ]
    assert errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_search_page_with_results_passes_axe(
    page: Page, served: str, scheme: Literal["light", "dark"]
) -> None:
    page.emulate_media(color_scheme=scheme)
    _search(page, served, "diplomatici russi")
    expect(page.locator(LINK).first).to_be_visible()
    page.locator(FILTER, has_text="Lingua").click()
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_search_page_of_a_site_without_articles(page: Page, make_site: MakeSite) -> None:
    config, _ = build_site(
        make_site({"newsgen.yaml": "base_url: https://example.org/archivio/\nlanguage: it\n"})
    )
    errors = _watch_errors(page)
    with serve(config.output_dir, config.base_path) as url:
        page.goto(url + "search/?q=qualcosa")
        expect(page.locator(".search-status")).to_have_text("Nessun risultato per «qualcosa»")
        expect(page.locator("#search-needs-js")).to_have_count(0)
        expect(page.locator(".search-filter")).to_have_count(0)
    assert errors == []


def test_without_javascript_the_page_says_so(browser: Browser, served: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(served + "search/")
    expect(page.get_by_text("La ricerca richiede JavaScript.")).to_be_visible()
    expect(page.get_by_role("link", name="Archivio").last).to_have_attribute(
        "href", "/archivio/archive/"
    )
    context.close()


def _origin(url: str) -> str:
    return "/".join(url.split("/")[:3])


def test_cbor_reads_and_writes_pagefind_metadata_byte_for_byte() -> None:
    value = [
        "1.5.2",
        [["de_903fe56", 81]],
        [["000", "zusamm", "de_6443f9a"]],
        [["Luogo", "de_6a6fb5b"], ["Lingua", "de_7648c8b"]],
        [],
        ["title"],
        {"n": -3, "big": 70_000, "b": b"\x00", "t": True, "f": False, "z": None},
    ]
    encoded = cbor.dumps(value)
    assert cbor.loads(encoded) == value
    assert cbor.dumps(cbor.loads(encoded)) == encoded


def test_the_same_records_give_the_same_bundle_whatever_the_filter_order() -> None:
    def bundle(filters: list[list[str]]) -> dict[str, bytes]:
        meta = ["1.5.2", [["de_1", 8]], [], filters, [], ["title"]]
        raw = b"pagefind_dcd" + cbor.dumps(meta)
        name = "de_" + ("a" * 10 if filters[0][0] == "Luogo" else "b" * 10)
        entry = json.dumps({"languages": {"de": {"hash": name}}}).encode()
        return {f"pagefind.{name}.pf_meta": gzip.compress(raw), "pagefind-entry.json": entry}

    one = canonical_bundle(bundle([["Luogo", "de_x"], ["Lingua", "de_y"]]))
    other = canonical_bundle(bundle([["Lingua", "de_y"], ["Luogo", "de_x"]]))
    assert one == other
    (meta,) = [name for name in one if name.endswith(".pf_meta")]
    assert (
        meta.removeprefix("pagefind.").removesuffix(".pf_meta")
        in one["pagefind-entry.json"].decode()
    )


# --- names and codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "site_language", "name"),
    [
        ("de", "it", "tedesco"),
        ("pt-BR", "it", "portoghese (Brasile)"),
        ("pt_BR", "en", "Portuguese (Brazil)"),
        ("de", "pt-BR", "alemão"),
        ("zz", "it", "zz"),
        ("xx-yy", "en", "xx-yy"),
        ("de", "zz", "de"),
    ],
)
def test_a_language_filter_is_named_in_the_site_language(
    lang: str, site_language: str, name: str
) -> None:
    assert search.language_name(lang, site_language) == name


@pytest.mark.parametrize(
    ("lang", "code"),
    [("pt_BR", "pt-br"), ("EN", "en"), ("zh-Hant!", "zh-hant"), ("***", "unknown")],
)
def test_a_shard_is_named_by_a_plain_language_code(lang: str, code: str) -> None:
    assert search._lang_code(lang) == code


def test_a_bucket_is_the_ids_hash_modulo_the_count() -> None:
    assert search.bucket_of("4c3b1bedbc3a3e95", 1000) == 761
    size = search.SHARD_SIZE
    assert [search.bucket_count(n) for n in (1, 3 * size, 4 * size + 1)] == [1, 4, 8]


def test_a_bundle_is_made_canonical_file_by_file() -> None:
    """Filter values and filter lists sorted, each file renamed by a hash of its sorted
    content (7 characters for a filter, 10 for the metadata), the entry file following."""
    magic = b"pagefind_dcd"
    values = [["zeta", [3]], ["alfa", [1, 2]]]
    meta = ["1.5.2", [["de_1", 8]], [], [["Luogo", "de_f1"], ["Lingua", "de_x"]], ["b", "a"]]
    files = {
        "filter/de_f1.pf_filter": gzip.compress(magic + cbor.dumps(["Luogo", values])),
        "pagefind.de_m1.pf_meta": gzip.compress(magic + cbor.dumps(meta)),
        "pagefind-entry.json": b'{"languages": {"de": {"hash": "de_m1"}}}',
        "fragment/de_x.pf_fragment": b"as it is",
    }
    fixed_filter = magic + cbor.dumps(["Luogo", sorted(values)])
    new_filter = "de_" + hashlib.sha256(fixed_filter).hexdigest()[:7]
    fixed_meta = magic + cbor.dumps(
        ["1.5.2", [["de_1", 8]], [], [["Lingua", "de_x"], ["Luogo", new_filter]], ["a", "b"]]
    )
    new_meta = "de_" + hashlib.sha256(fixed_meta).hexdigest()[:10]
    # The same without the sort orders, for searches by relevance.
    lean_meta = magic + cbor.dumps(
        ["1.5.2", [["de_1", 8]], [], [["Lingua", "de_x"], ["Luogo", new_filter]], []]
    )
    lean = "de_" + hashlib.sha256(lean_meta).hexdigest()[:10]
    out = canonical_bundle(files)
    assert sorted(out) == sorted(
        [
            f"filter/{new_filter}.pf_filter",
            f"pagefind.{new_meta}.pf_meta",
            f"pagefind.{lean}.pf_meta",
            "pagefind-entry.json",
            "fragment/de_x.pf_fragment",
        ]
    )
    assert gzip.decompress(out[f"filter/{new_filter}.pf_filter"]) == fixed_filter
    assert gzip.decompress(out[f"pagefind.{new_meta}.pf_meta"]) == fixed_meta
    assert gzip.decompress(out[f"pagefind.{lean}.pf_meta"]) == lean_meta
    assert (
        out["pagefind-entry.json"]
        == f'{{"languages": {{"de": {{"hash": "{new_meta}"}}}}}}'.encode()
    )
    assert out["fragment/de_x.pf_fragment"] == b"as it is"
    assert canonical_bundle(out) == out


def test_a_bundle_of_another_shape_is_left_as_it_is() -> None:
    files = {"pagefind.de_m1.pf_meta": gzip.compress(b"not pagefind"), "pagefind-entry.json": b"{}"}
    assert canonical_bundle(files) is files
