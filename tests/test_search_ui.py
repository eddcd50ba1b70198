"""The search page as a reader uses it (issue 18), in Chromium against the sample site served
on 127.0.0.1: no junk results, the state in the URL, Back, the results as teasers, the
filters, accessibility on a phone and a desktop in both schemes, nothing shifting."""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Route, expect

from newsgen import search
from newsgen.build import BuildResult
from newsgen.config import Config
from tests.conftest import SAMPLE, build_site
from tests.site_pages import serve
from tests.test_reader import AXE_OPTIONS, CLS, VIEWPORTS

LINK = ".search-result-title a"
STATUS = ".search-status"
BOX = ".site-search input[type=search]"


@pytest.fixture(scope="module")
def served(sample_site: tuple[Config, BuildResult]) -> Iterator[str]:
    config, _ = sample_site
    with serve(config.output_dir, config.base_path) as url:
        yield url


@pytest.fixture(params=["desktop", "phone"])
def reader(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(**VIEWPORTS[request.param])
    context.route(
        "**/*",
        lambda route: route.abort() if "127.0.0.1" not in route.request.url else route.continue_(),
    )
    yield context.new_page()
    context.close()


def _origin(url: str) -> str:
    return "/".join(url.split("/")[:3])


def hrefs(page: Page) -> list[str]:
    found: list[str] = page.locator(LINK).evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return found


class _Text(HTMLParser):
    """The words of an article page's story (its <article class="story">)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth or (tag == "article" and "story" in (dict(attrs).get("class") or "")):
            self.depth += tag not in ("br", "img", "meta", "link", "source", "wbr")

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in ("br", "img"):
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.words += re.findall(r"\w+", data)


def story_words(url: str) -> set[str]:
    with urlopen(url) as response:
        parser = _Text()
        parser.feed(response.read().decode("utf-8"))
    return {_fold(word) for word in parser.words}


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --- precision ------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["zzqx", "Mu'ammarova", "Kondon"])
def test_a_word_in_no_article_gives_no_results(page: Page, served: str, query: str) -> None:
    """Before, Pagefind's longest-prefix fallback found "z", "M." or "lo" in some article."""
    page.goto(served + "search/")
    page.locator(BOX).fill(query)
    expect(page.locator(STATUS)).to_have_text(f"Nessun risultato per «{query}»")
    expect(page.locator(LINK)).to_have_count(0)


# A word, and the stem every form of it that its language's stemmer joins to it begins with.
STEMS = [
    ("president", "presid"),
    ("diplomatici", "diplomat"),
    ("Landwirte", "landwirt"),
    ("infections", "infect"),
    ("elezioni", "elezion"),
]


@pytest.mark.parametrize(("query", "stem"), STEMS)
def test_every_result_of_a_one_word_query_holds_the_word_or_its_stem(
    page: Page, served: str, query: str, stem: str
) -> None:
    page.goto(served + "search/?q=" + query)
    expect(page.locator(STATUS)).not_to_have_text("")
    found = hrefs(page)
    assert found, query
    for href in found:
        words = story_words(_origin(served) + href)
        assert any(word.startswith(stem) for word in words), (query, href)


def test_a_rare_name_finds_its_one_article_and_nothing_else(page: Page, served: str) -> None:
    """Before, a rare name gave its article first, then every article sharing a prefix."""
    page.goto(served + "search/?q=Bundesregierung")
    expect(page.locator(STATUS)).to_have_text("1 risultato per «Bundesregierung»")
    assert hrefs(page) == [
        "/archivio/articles/die-bundesregierung-hat-am-mittwoch-ein-neues-gesetz-zum-schutz-von-"
        "mooren/"
    ]


def test_every_word_of_a_query_must_be_in_a_result(page: Page, served: str) -> None:
    page.goto(served + "search/?q=president")
    expect(page.locator(LINK)).to_have_count(4)
    page.goto(served + "search/?q=president%20Moscow")
    expect(page.locator(STATUS)).to_have_text("1 risultato per «president Moscow»")
    page.goto(served + "search/?q=president%20zzqx")
    expect(page.locator(STATUS)).to_have_text("Nessun risultato per «president zzqx»")


def test_a_misspelt_word_offers_the_indexed_word_nearest_to_it(page: Page, served: str) -> None:
    page.goto(served + "search/?q=Bundesregirung")
    expect(page.locator(STATUS)).to_have_text("Nessun risultato per «Bundesregirung»")
    offer = page.locator(".search-suggestions")
    expect(offer).to_have_text("Forse cercavi bundesregierung?")
    offer.get_by_role("link", name="bundesregierung").click()
    expect(page.locator(STATUS)).to_have_text("1 risultato per «bundesregierung»")
    expect(page.locator(BOX)).to_have_value("bundesregierung")


def test_two_misspelt_words_are_offered_mended_together(page: Page, served: str) -> None:
    page.goto(served + "search/?q=Bundesregirung%20Landwirre")
    expect(page.locator(STATUS)).to_have_text("Nessun risultato per «Bundesregirung Landwirre»")
    offer = page.locator(".search-suggestions")
    expect(offer).to_have_text("Forse cercavi bundesregierung landwirte?")
    offer.get_by_role("link").click()
    expect(page.locator(STATUS)).to_have_text("1 risultato per «bundesregierung landwirte»")


@pytest.mark.parametrize(
    "query",
    [
        "governo Bundesregirung",  # "governo" is in Italian articles, the German one is not
        "Bundesregirung diplomatco",  # each word mended is in an article, never both in one
    ],
)
def test_a_mended_query_that_would_find_nothing_is_not_offered(
    page: Page, served: str, query: str
) -> None:
    page.goto(served + "search/?q=" + query)
    expect(page.locator(STATUS)).to_have_text(f"Nessun risultato per «{query}»")
    # The offer comes after the status, once its queries are tried: wait for them to be.
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    expect(page.locator(".search-suggestions")).to_be_hidden()


def test_sorted_by_date_the_undated_come_last_in_the_order_of_relevance(
    page: Page, served: str
) -> None:
    """Newest first, then the undated results (most of a scraped archive's) as the same query
    by relevance orders them; before, in Pagefind's order of pages of one date (by URL),
    each language's apart."""

    def shown(query: str) -> list[tuple[str, str]]:
        page.goto(served + "search/?q=" + query)
        expect(page.locator(LINK)).to_have_count(10)
        found: list[tuple[str, str]] = page.locator(".search-result").evaluate_all(
            "items => items.map(i => [i.querySelector('time')?.dateTime || '',"
            " i.querySelector('a').getAttribute('href')])"
        )
        return found

    by_relevance = shown("a")
    by_date = shown("a&sort=date")
    dated = [item for item in by_date if item[0]]
    assert dated == sorted(dated, reverse=True) and len(dated) == 5
    assert by_date[len(dated) :] == [item for item in by_relevance if not item[0]]


def folded(word: str) -> str:
    """Case and accents aside, as the page compares words."""
    return "".join(
        c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)
    ).lower()


def test_a_headline_marks_the_words_found_as_its_excerpt_does(page: Page, served: str) -> None:
    """Its words written as the query word is, or as a word its excerpt marks, case and
    accents aside; nothing else."""
    page.goto(served + "search/?q=PRESIDENT")
    expect(page.locator(LINK)).to_have_count(4)
    for result in page.locator(".search-result").all():
        title = result.locator(LINK)
        forms = {folded(m) for m in result.locator(".search-excerpt mark").all_inner_texts()}
        words = re.findall(r"\w+", title.inner_text())
        expected = [w for w in words if folded(w) in forms | {"president"}]
        assert title.locator("mark").all_inner_texts() == expected
    assert page.locator(f"{LINK} mark").all_inner_texts() == ["President", "président"]


def test_a_word_far_from_every_indexed_word_offers_nothing(page: Page, served: str) -> None:
    page.goto(served + "search/?q=zzqx")
    expect(page.locator(STATUS)).to_have_text("Nessun risultato per «zzqx»")
    expect(page.locator(".search-suggestions")).to_be_hidden()


def test_a_query_that_finds_nothing_says_what_to_try_and_links_the_archive(
    page: Page, served: str
) -> None:
    hint = page.locator(".search-hint")
    page.goto(served + "search/?q=zzqx")
    expect(hint).to_have_text(
        "Controlla l’ortografia o prova con meno parole, o con altre. Sfoglia l’archivio"
    )
    archive = page.locator("header nav a", has_text="Archivio")
    link = hint.get_by_role("link", name="Sfoglia l’archivio")
    assert link.get_attribute("href") == archive.get_attribute("href")
    page.goto(served + "search/?q=president")
    expect(page.locator(LINK)).to_have_count(4)
    expect(hint).to_be_hidden()


# --- results as teasers ---------------------------------------------------------------------


def test_a_result_says_place_date_and_language_and_its_excerpt_skips_the_headline(
    page: Page, served: str
) -> None:
    page.goto(served + "search/?q=Camfranglais")
    result = page.locator(".search-result")
    expect(result).to_have_count(1)
    teaser = result.locator("article.teaser")
    expect(teaser).to_have_attribute("lang", "fr")
    expect(teaser.locator(".dateline")).to_have_text("Québec")
    expect(teaser.locator("time")).to_have_attribute("datetime", "2012-07-03")
    expect(teaser.locator("time")).to_have_text("3 juillet 2012")
    expect(teaser.locator(".lang-mark")).to_have_text("francese")
    expect(teaser.locator(".lang-mark")).to_have_attribute("lang", "it")
    title = teaser.locator("h2").inner_text()
    excerpt = teaser.locator(".search-excerpt").inner_text()
    assert title not in excerpt
    expect(teaser.locator(".search-excerpt mark").first).to_have_text(
        re.compile("camfranglais", re.I)
    )


def test_an_excerpt_cut_from_inside_the_text_says_so(page: Page, served: str) -> None:
    page.goto(served + "search/?q=Camfranglais")
    expect(page.locator(".search-excerpt")).to_have_text(re.compile(r"^… \S.+\S …$"))
    # This one begins where the indexed text does (the sentence after the headline).
    page.goto(served + "search/?q=bundesregierung")
    expect(page.locator(".search-excerpt")).to_have_text(re.compile(r"^Damit sollen .+\S …$"))


def test_a_highlight_is_the_word_without_the_punctuation_beside_it(page: Page, served: str) -> None:
    """Pagefind marks "canadien." (the sentence's end) as the word found; the reader sees
    "canadien" highlighted and the full stop after it, as written."""
    page.goto(served + "search/?q=canadien")
    excerpt = page.locator(".search-excerpt")
    expect(excerpt).to_have_count(1)
    expect(excerpt.locator("mark")).to_have_text(["canadien"])
    expect(excerpt).to_contain_text("visa canadien. ")


def test_results_in_the_site_language_carry_no_language_mark(page: Page, served: str) -> None:
    page.goto(served + "search/?q=diplomatici")
    expect(page.locator(".search-result")).to_have_count(1)
    expect(page.locator(".search-result .lang-mark")).to_have_count(0)
    expect(page.locator(".search-result .dateline")).to_have_text("Bruxelles")


# --- state in the URL, Back -----------------------------------------------------------------


def test_typing_replaces_the_url_and_submitting_adds_a_history_entry(
    page: Page, served: str
) -> None:
    """On the empty search page; Back then leads to it, not to the same search again."""
    page.goto(served + "search/")
    length = page.evaluate("history.length")
    page.locator(BOX).fill("president")
    expect(page).to_have_url(served + "search/?q=president")
    assert page.evaluate("history.length") == length
    page.locator(BOX).press("Enter")
    expect(page.locator(LINK)).to_have_count(4)
    page.wait_for_function(f"history.length === {length + 1}")
    page.go_back()
    expect(page).to_have_url(served + "search/")
    expect(page.locator(BOX)).to_have_value("")
    expect(page.locator(LINK)).to_have_count(0)
    page.go_forward()
    expect(page.locator(BOX)).to_have_value("president")
    expect(page.locator(LINK)).to_have_count(4)


def test_words_typed_before_the_index_loads_are_searched_and_back_leads_to_the_empty_page(
    page: Page, served: str
) -> None:
    """The index's files are held until the words are typed and the typing's pause is over:
    the search made when the index comes in must be the typed one, with one history entry
    added by the submit, as when the index was there first."""
    held: list[Route] = []
    released = False

    def hold(route: Route) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route("**/pagefind/**", hold)
    page.goto(served + "search/", wait_until="domcontentloaded")
    length = page.evaluate("history.length")
    page.locator(BOX).fill("president")
    page.wait_for_timeout(400)  # the typing's pause (200 ms) is over; the index is not there
    released = True
    for route in held:
        route.continue_()
    expect(page).to_have_url(served + "search/?q=president")
    expect(page.locator(LINK)).to_have_count(4)
    page.wait_for_timeout(300)
    assert page.evaluate("history.length") == length
    page.locator(BOX).press("Enter")
    page.wait_for_function(f"history.length === {length + 1}")
    page.go_back()
    expect(page).to_have_url(served + "search/")
    expect(page.locator(LINK)).to_have_count(0)


def test_the_url_carries_query_sort_and_filters(page: Page, served: str) -> None:
    page.goto(served + "search/?q=president")
    expect(page.locator(LINK)).to_have_count(4)
    page.get_by_label("data, dal più recente").check()
    page.locator(".search-filter summary", has_text="Lingua").click()
    page.get_by_label("francese").check()
    expect(page.locator(LINK)).to_have_count(2)
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"q": ["president"], "sort": ["date"], "f": ["Lingua:francese"]}
    shown = hrefs(page)
    other = page.context.new_page()
    other.goto(page.url)
    expect(other.locator(LINK)).to_have_count(2)
    assert hrefs(other) == shown
    expect(other.get_by_label("francese")).to_be_checked()
    expect(other.get_by_label("data, dal più recente")).to_be_checked()
    other.close()


def test_sorting_by_date_puts_the_newest_first_and_undated_last(page: Page, served: str) -> None:
    page.goto(served + "search/?q=president&sort=date")
    expect(page.locator(LINK)).to_have_count(4)
    dates = page.locator(".search-result").evaluate_all(
        "items => items.map(i => i.querySelector('time')?.getAttribute('datetime') || '')"
    )
    assert dates == sorted(dates, reverse=True)
    assert dates == ["2020-04-05", "2012-08-17", "2012-07-03", ""]


@pytest.fixture(scope="module")
def bucketed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample site with each language in buckets of one article (as a large archive's
    languages are in buckets of 1,000–2,500), served."""
    site = tmp_path_factory.mktemp("bucketed") / "site"
    shutil.copytree(SAMPLE, site)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "SHARD_SIZE", 1)
        config, _ = build_site(site)
    manifest = json.loads((config.output_dir / "pagefind" / "shards.json").read_bytes())
    assert sum(shard["lang"] == "en" for shard in manifest["shards"]) >= 3
    with serve(config.output_dir, config.base_path) as url:
        yield url


@pytest.mark.parametrize("query", ["president", ""])
def test_sorting_by_date_is_exact_across_buckets(page: Page, bucketed: str, query: str) -> None:
    """Pagefind merges the buckets of a language by each result's rank within its own bucket,
    not by date: the page merges them by date itself. Without words, a filter's results are
    sorted by date too."""
    filters = "" if query else "&f=Lingua%3Ainglese"
    page.goto(f"{bucketed}search/?q={query}&sort=date{filters}")
    expect(page.locator(STATUS)).not_to_be_empty()
    dates = page.locator(".search-result").evaluate_all(
        "items => items.map(i => i.querySelector('time')?.getAttribute('datetime') || '')"
    )
    dated = [d for d in dates if d]
    assert len(dates) >= 3 and len(dated) >= (3 if query else 1)
    assert dated == sorted(dated, reverse=True)
    assert dates == [*dated, *[""] * (len(dates) - len(dated))]  # undated last


def test_the_undated_articles_can_be_chosen(page: Page, served: str) -> None:
    page.goto(served + "search/")
    page.locator(".search-filter summary", has_text="Anno").click()
    values = page.locator(".search-filter", has_text="Anno").locator(".search-filter-value")
    expect(values.last).to_have_text("senza data")  # the values load when a filter is opened
    years = values.all_inner_texts()[:-1]
    assert years == sorted(years, reverse=True)
    page.get_by_label("senza data").check()
    expect(page).to_have_url(re.compile(r"\?f=Anno%3A%E2%80%93$"))
    expect(page.locator(STATUS)).to_have_text("6 risultati")
    assert page.locator(".search-result time").count() == 0


def test_back_restores_query_results_and_scroll(browser: Browser, served: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 500})
    page = context.new_page()
    page.goto(served + "search/")
    page.locator(BOX).fill("president")
    page.locator(BOX).press("Enter")
    expect(page.locator(LINK)).to_have_count(4)
    shown = hrefs(page)
    last = page.locator(LINK).last
    last.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 40)")
    page.wait_for_timeout(300)  # the scroll position is remembered 0.1 s after scrolling
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 200
    last.click()
    expect(page).to_have_url(re.compile(r"/articles/"))
    page.go_back()
    expect(page.locator(BOX)).to_have_value("president")
    expect(page.locator(LINK)).to_have_count(4)
    assert hrefs(page) == shown
    page.wait_for_function(f"Math.abs(window.scrollY - {scrolled}) <= 2")
    context.close()


def test_back_and_forward_between_two_searches(page: Page, served: str) -> None:
    page.goto(served + "search/?q=president")
    expect(page.locator(LINK)).to_have_count(4)
    page.locator(BOX).fill("diplomatici")
    page.locator(BOX).press("Enter")
    expect(page.locator(LINK)).to_have_count(1)
    page.go_back()
    expect(page.locator(BOX)).to_have_value("president")
    expect(page.locator(LINK)).to_have_count(4)
    page.go_forward()
    expect(page.locator(BOX)).to_have_value("diplomatici")
    expect(page.locator(LINK)).to_have_count(1)


def test_back_after_a_pause_in_typing_leads_to_the_search_before(page: Page, served: str) -> None:
    """Typing shows results as it goes (after 200 ms without a key); a reader who paused
    before pressing Enter still gets the earlier search back, not the typed one twice."""
    page.goto(served + "search/?q=president")
    expect(page.locator(LINK)).to_have_count(4)
    page.locator(BOX).fill("diplomatici")
    expect(page).to_have_url(re.compile(r"q=diplomatici"))  # the typed words' own entry
    expect(page.locator(LINK)).to_have_count(1)
    page.locator(BOX).press("Enter")
    page.go_back()
    expect(page.locator(BOX)).to_have_value("president")
    expect(page.locator(LINK)).to_have_count(4)
    page.go_forward()
    expect(page.locator(BOX)).to_have_value("diplomatici")
    page.locator(BOX).fill("camfranglais")
    expect(page).to_have_url(re.compile(r"q=camfranglais"))
    page.go_back()  # typed, never submitted: Back still leads to the search it was typed over
    expect(page.locator(BOX)).to_have_value("diplomatici")


# --- one box, no JavaScript, accessibility, stability ---------------------------------------


def test_the_search_page_has_one_box_the_headers_prefilled(page: Page, served: str) -> None:
    page.goto(served + "search/?q=president")
    boxes = page.get_by_role("searchbox")
    expect(boxes).to_have_count(1)
    expect(page.locator("header " + BOX)).to_have_value("president")


def test_on_a_phone_the_search_page_shows_the_headers_box(browser: Browser, served: str) -> None:
    context = browser.new_context(**VIEWPORTS["phone"])
    page = context.new_page()
    page.goto(served + "search/?q=president")
    expect(page.locator(BOX)).to_be_visible()
    expect(page.locator(".search-link")).to_be_hidden()
    context.close()


def test_without_javascript_the_box_leads_to_a_page_with_ways_on(
    browser: Browser, served: str
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(served)
    page.locator(BOX).fill("president")
    page.locator(BOX).press("Enter")
    expect(page).to_have_url(served + "search/?q=president")
    notice = page.locator("#search-needs-js")
    expect(notice).to_contain_text("La ricerca richiede JavaScript.")
    links = notice.get_by_role("link")
    assert links.evaluate_all("ls => ls.map(a => a.getAttribute('href'))") == [
        "/archivio/archive/",
        "/archivio/places/",
        "/archivio/tags/",
    ]
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_with_results_and_filters_shown(
    reader: Page, served: str, scheme: Literal["light", "dark"]
) -> None:
    reader.emulate_media(color_scheme=scheme)
    reader.goto(served + "search/?q=president")
    expect(reader.locator(LINK)).to_have_count(4)
    for summary in reader.locator(".search-filter summary").all():
        summary.click()
    reader.get_by_label("francese").check()
    expect(reader.locator(LINK)).to_have_count(2)
    results = Axe().run(reader, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


def test_axe_finds_nothing_when_nothing_is_found(reader: Page, served: str) -> None:
    reader.emulate_media(color_scheme="dark")
    reader.goto(served + "search/?q=Bundesregirung")
    expect(reader.locator(".search-suggestions")).to_be_visible()
    results = Axe().run(reader, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_nothing_shifts_while_the_results_load(browser: Browser, served: str, size: str) -> None:
    options: dict[str, Any] = VIEWPORTS[size]
    context = browser.new_context(**options)
    page = context.new_page()
    page.goto(served + "search/?q=president")
    expect(page.locator(LINK)).to_have_count(4)
    assert page.evaluate(CLS) == 0
    context.close()


def test_the_filters_are_shown_in_alphabetical_order(page: Page, served: str) -> None:
    page.goto(served + "search/?q=governo")
    expect(page.locator(".search-filter summary")).to_have_text(["Anno", "Lingua", "Luogo"])


def test_filter_counts_are_those_of_the_results(reader: Page, served: str) -> None:
    """Counted once the filters are loaded, whichever comes first (counts made before were
    zero for values Pagefind had not loaded yet)."""
    reader.goto(served + "search/?q=president")
    expect(reader.locator(LINK)).to_have_count(4)
    reader.locator(".search-filter summary", has_text="Anno").click()
    year = reader.locator(".search-filter", has_text="Anno").locator("label")
    expect(year.locator(".count")).to_have_text(["1", "2", "1"])
    expect(year.locator(".search-filter-value")).to_have_text(["2020", "2012", "senza data"])
    reader.locator(".search-filter summary", has_text="Lingua").click()
    language = reader.locator(".search-filter", has_text="Lingua").locator("label")
    expect(language.locator(".search-filter-value")).to_have_text(
        ["francese", "inglese", "italiano", "tedesco"]
    )
    expect(language.locator(".count")).to_have_text(["2", "2", "0", "0"])
