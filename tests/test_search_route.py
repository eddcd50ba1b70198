"""Query routing (newsgen.route): the builder (pure), the routing a build writes and keeps
up to date, and the search page in Chromium loading only the shards a query needs, with the
same results as without routing."""

from __future__ import annotations

import gzip
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from newsgen import cbor, route, search
from newsgen.build import BuildResult
from newsgen.config import Config
from tests.conftest import SAMPLE, build_site
from tests.site_pages import serve

LINK = ".search-result-title a"
STATUS = ".search-status"


def _read(data: bytes) -> object:
    raw = gzip.decompress(data)
    assert raw.startswith(b"pagefind_dcd")
    return cbor.loads(raw[len(b"pagefind_dcd") :])


def _holders(files: dict[str, bytes], key: str, shards: list[str]) -> dict[str, list[str]]:
    """Word → the shards that hold it, from one key's routing bundle."""
    hexed = key.encode().hex()
    (meta,) = [v for k, v in files.items() if k.startswith(f"{hexed}/pagefind.")]
    (chunk,) = [v for k, v in files.items() if k.startswith(f"{hexed}/index/")]
    pages = _read(meta)[1]  # type: ignore[index]
    assert [page[0] for page in pages] == shards
    found: dict[str, list[str]] = {}
    for word, entries, _ in _read(chunk)[0]:  # type: ignore[index]
        at = 0
        found[word] = []
        for entry in entries:
            at += entry[0]  # Pagefind writes page numbers as differences
            found[word].append(shards[at])
    return found


# --- the builder (pure) ---------------------------------------------------------------------


def test_routes_name_the_shards_that_hold_each_word_grouped_by_first_letters() -> None:
    words = {"it-0": {"govern", "rom", "a"}, "it-1": {"govern", "gola"}, "it-2": {"rom", "govern"}}
    files = route.build_routes(words, ["it-0", "it-1", "it-2"], "it", "1.5.2")
    listing = json.loads(files["keys.json"])
    assert listing == {"keys": ["a", "go", "ro"]}
    order = ["it-0", "it-1", "it-2"]
    assert _holders(files, "go", order) == {"gola": ["it-1"], "govern": order}
    assert _holders(files, "ro", order) == {"rom": ["it-0", "it-2"]}
    assert _holders(files, "a", order) == {"a": ["it-0"]}
    meta = _read(files["676f/pagefind.it_676f.pf_meta"])  # "go" in hexadecimal
    # One chunk spanning every word that begins with the key, as Pagefind's meta names it.
    assert meta[2] == [["go", "go\U0010ffff", "it_676f"]]  # type: ignore[index]


def test_routes_are_byte_identical_whatever_the_order_of_words_and_shards() -> None:
    order = ["en-0", "en-1"]
    one = route.build_routes({"en-0": ["b", "ab", "aa"], "en-1": ["ab"]}, order, "en", "1.5.2")
    two = route.build_routes({"en-1": {"ab"}, "en-0": {"aa", "b", "ab"}}, order, "en", "1.5.2")
    assert one == two
    assert sorted(one) == sorted(two)


def test_a_language_whose_stemmer_may_touch_a_words_beginning_is_not_routed() -> None:
    assert route.routed("it") and route.routed("en") and route.routed("pt-br")
    assert not route.routed("ar") and not route.routed("el") and not route.routed("unknown")


def test_a_language_of_one_or_two_shards_is_not_routed() -> None:
    assert [route.worth_routing("it", n) for n in (1, 2, 4, 8)] == [False, False, True, True]
    assert not route.worth_routing("ar", 8)


def test_chunk_words_reads_the_words_the_decoder_reads_or_nothing(
    sample_site: tuple[Config, BuildResult],
) -> None:
    config, _ = sample_site
    chunks = sorted((config.output_dir / "pagefind").glob("*-0/index/*.pf_index"))
    assert chunks
    for path in chunks:
        raw = gzip.decompress(path.read_bytes())
        decoded = cbor.loads(raw[len(b"pagefind_dcd") :])
        assert route.chunk_words(raw) == [entry[0] for entry in decoded[0]]
        assert route.chunk_words(raw[:-1]) is None
    odd = b"pagefind_dcd" + cbor.dumps([[["word", [[0, ["x"], []]], []]]])
    assert route.chunk_words(odd) is None


# --- written by a build ---------------------------------------------------------------------
# The sample's languages have one shard each, too few to be routed: these builds route them.


@pytest.fixture
def routing_every_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(route, "MIN_SHARDS", 1)


@pytest.fixture(scope="module")
def routed_site(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The sample site built with every language routed."""
    site = tmp_path_factory.mktemp("routed") / "site"
    shutil.copytree(SAMPLE, site)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(route, "MIN_SHARDS", 1)
        config, _ = build_site(site)
    return config


def _routed(root: Path, lang: str) -> dict[str, set[str]]:
    manifest = json.loads((root / "shards.json").read_text(encoding="utf-8"))
    order = [s["name"] for s in manifest["shards"] if s["lang"] == lang]
    return route.routed_words(root / route.ROUTES / lang, order)


def test_the_routing_holds_exactly_the_words_of_each_shards_index(routed_site: Config) -> None:
    root = routed_site.output_dir / "pagefind"
    manifest = json.loads((root / "shards.json").read_text(encoding="utf-8"))
    assert sorted(manifest["routes"]) == ["de", "en", "fr", "it"]
    # The page reads each language's keys from the manifest, with it: the routing's own.
    for lang, keys in manifest["route_keys"].items():
        listing = json.loads((root / route.ROUTES / lang / "keys.json").read_bytes())
        assert keys == listing["keys"] and keys
    assert sorted(manifest["route_keys"]) == ["de", "en", "fr", "it"]
    for shard in manifest["shards"]:
        words = _routed(root, shard["lang"])[shard["name"]]
        assert words == route.shard_words(root / shard["name"]) and words


def test_a_language_that_has_too_few_shards_again_loses_its_routing(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(route, "MIN_SHARDS", 1)
        config, _ = build_site(site)
    root = config.output_dir / "pagefind"
    assert sorted(json.loads((root / "shards.json").read_bytes())["routes"]) == [
        "de",
        "en",
        "fr",
        "it",
    ]
    german = site / "seeds" / "020_de0a11ce5eed0001.txt"
    german.write_text(german.read_text(encoding="utf-8") + "\nTorfmoose wachsen.\n", "utf-8")
    _, again = build_site(site)
    assert json.loads((root / "shards.json").read_bytes())["routes"] == {}
    assert not (root / route.ROUTES).exists()
    assert search.index_present(config.output_dir)
    assert again.search is not None and again.search.indexed == 1


@pytest.mark.usefixtures("routing_every_language")
def test_an_edit_updates_the_routing_from_the_reindexed_shard(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    config, _ = build_site(site)
    root = config.output_dir / "pagefind"
    before = _routed(root, "de")["de-0"]
    italian = _routed(root, "it")
    german = site / "seeds" / "020_de0a11ce5eed0001.txt"
    german.write_text(german.read_text(encoding="utf-8") + "\nZwergkaninchenzucht.\n", "utf-8")
    _, edited = build_site(site)
    assert edited.search is not None and edited.search.indexed == 1
    after = _routed(root, "de")["de-0"]
    assert after - before and all(w.startswith("zwergkaninchenzucht") for w in after - before)
    assert after == route.shard_words(root / "de-0")
    assert _routed(root, "it") == italian


# --- in the browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def both(
    routed_site: Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """The sample site with every language routed, and a copy whose manifest names no
    routing (the page then loads every shard), both served."""
    config = routed_site
    plain = tmp_path_factory.mktemp("unrouted") / "build"
    shutil.copytree(config.output_dir, plain)
    manifest_path = plain / "pagefind" / "shards.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest.pop("routes")
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with (
        serve(config.output_dir, config.base_path) as routed,
        serve(plain, config.base_path) as unrouted,
    ):
        yield routed, unrouted


def _shown(
    page: Page, url: str, query: str, offers: bool = False
) -> tuple[str, list[str], str, list[str]]:
    """Status, result links, suggestions (offered after the status: waited for where
    `offers`) and the shard files fetched for a query."""
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(url + "search/?q=" + query)
    expect(page.locator(STATUS)).not_to_be_empty()
    if offers:
        expect(page.locator(".search-suggestions")).to_be_visible()
    page.wait_for_load_state("networkidle")
    links = [str(a.get_attribute("href")) for a in page.locator(LINK).all()]
    suggestions = page.locator(".search-suggestions").text_content() or ""
    status = page.locator(STATUS).text_content() or ""
    return status, links, suggestions, fetched


def test_a_german_word_fetches_no_other_languages_index_and_finds_the_same(
    page: Page, both: tuple[str, str]
) -> None:
    routed, unrouted = both
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    *shown, fetched = _shown(page, routed, "Bundesregierung")
    assert shown[0] == "1 risultato per «Bundesregierung»"
    data = [u for u in fetched if "/pagefind/" in u and "/route/" not in u]
    index_files = (".pf_meta", ".pf_index", ".pf_fragment", ".pf_filter")
    others = [u for u in data if "/de-0/" not in u and u.split("?")[0].endswith(index_files)]
    assert others == []
    assert [u for u in data if "/de-0/" in u and u.endswith(".pf_index")]
    *before, _ = _shown(page.context.new_page(), unrouted, "Bundesregierung")
    assert shown == before
    assert errors == []


def test_a_search_fetches_each_file_once(page: Page, both: tuple[str, str]) -> None:
    """The files the page asks for ahead of Pagefind are the ones Pagefind then takes."""
    for url in both:
        *_, fetched = _shown(page.context.new_page(), url, "president")
        assert [u for u, n in Counter(fetched).items() if n > 1] == []
        assert any(u.split("?")[0].endswith(".pf_index") for u in fetched)


def test_a_search_by_relevance_loads_the_metadata_without_sort_orders(
    page: Page, routed_site: Config, both: tuple[str, str]
) -> None:
    """A fourth smaller; sorted by date, the whole metadata, and the same results either way
    but for their order."""
    manifest = json.loads((routed_site.output_dir / "pagefind" / "shards.json").read_bytes())
    lean = {s["lean"] for s in manifest["shards"]}
    full = {s["meta"] for s in manifest["shards"]}
    assert len(lean) == len(full) == len(manifest["shards"]) and not lean & full

    def metas(fetched: list[str]) -> set[str]:
        names = {u.split("?")[0].rsplit("/", 1)[1] for u in fetched if "/route/" not in u}
        return {n for n in names if n.endswith(".pf_meta")}

    routed, _ = both
    *ranked, fetched = _shown(page, routed, "president")
    assert metas(fetched) and metas(fetched) <= lean
    *dated, fetched = _shown(page.context.new_page(), routed, "president&sort=date")
    assert metas(fetched) and metas(fetched) <= full
    assert ranked[0] == dated[0] and sorted(ranked[1]) == sorted(dated[1])


@pytest.mark.parametrize(
    "query",
    [
        "governo",
        "diplomatici russi",
        "president",
        "Londres",
        "l'Italia",
        "2012",
        "zzqx",  # in no article: "no results", as before
        "diplomatco",  # did you mean
        "governo Bundesregierung",  # each word in another language: nothing
    ],
)
def test_routing_changes_no_result_count_or_suggestion(
    page: Page, both: tuple[str, str], query: str
) -> None:
    routed, unrouted = both
    offers = query == "diplomatco"
    *shown, _ = _shown(page, routed, query, offers)
    *before, _ = _shown(page.context.new_page(), unrouted, query, offers)
    assert shown == before


@pytest.mark.usefixtures("routing_every_language")
def test_a_deleted_routing_is_written_again_by_the_next_build(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    config, _ = build_site(site)
    root = config.output_dir / "pagefind"
    written = {p: p.read_bytes() for p in sorted((root / route.ROUTES).rglob("*")) if p.is_file()}
    shutil.rmtree(root / route.ROUTES / "fr")
    assert not search.index_present(config.output_dir)
    build_site(site)
    again = {p: p.read_bytes() for p in sorted((root / route.ROUTES).rglob("*")) if p.is_file()}
    assert again == written
