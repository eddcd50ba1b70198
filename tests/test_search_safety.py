"""Issue 22, point 1: markup in any input never runs on the search page, nor anywhere else.

A site whose every curated field, seed text and image caption holds an `<img onerror>` and a
`<script>` payload is built and opened in Chromium: searched, every filter group opened and
used, every page visited. Nothing may run, the markup must show as the characters written, and
the Content-Security-Policy of every page (the second wall) must refuse inline script.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Dialog, Page, expect

from newsgen.build import BuildResult
from newsgen.config import Config
from tests.conftest import SAMPLE, MakeSite, build_site
from tests.site_pages import serve
from tests.test_serve import RECOVER_DEADLINE_MS, Server, save

IMG = '<img src=x onerror="window.__pwn=1">'
SCRIPT = "<script>alert(1)</script>"
SEED_TITLE = f"Titolo del seme {IMG} zanzibarone"
CURATED_TITLE = f"Titolo {IMG} {SCRIPT} zanzibarone"
HOSTILE_PLACE = f"{IMG}Roma"
CAPTION = f"Didascalia {IMG} {SCRIPT}"
SEED = f"""{SEED_TITLE}

Roma – Il seme {IMG} parla dello zanzibarone {SCRIPT} e di una giornata qualunque in città.

Un secondo paragrafo racconta che lo zanzibarone {IMG} è tornato a casa per la cena.

![{CAPTION} [Credit: {IMG}]](https://example.org/a.jpg)
"""
CURATED = f"""---
title: '{CURATED_TITLE}'
dateline: '{HOSTILE_PLACE}'
tags: ['{IMG}', '{SCRIPT}']
summary: 'Sommario {IMG} {SCRIPT}'
date: 2022-03-29
---
Il corpo dello zanzibarone {IMG} {SCRIPT} con AT&T e `&amp;` nel codice.
"""
FILES = {
    "newsgen.yaml": "title: Archivio ostile\nbase_url: https://example.org/archivio/\n"
    "language: it\n",
    "seeds/001_00000000000000a1.txt": SEED,
    "articles/ostile.md": CURATED,
}

# Records what the page would reveal if anything ran, before any script of the page runs.
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@dataclass(frozen=True)
class Hostile:
    output: Path
    url: str


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    site = tmp_path_factory.mktemp("hostile") / "site"
    for name, content in FILES.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(content, encoding="utf-8")
    config, result = build_site(site)
    assert result.search is not None and result.search.records == 2
    with serve(config.output_dir, config.base_path) as url:
        yield Hostile(config.output_dir, url)


@pytest.fixture
def watched(page: Page) -> Iterator[tuple[Page, list[str]]]:
    """The page, with CSP violations kept in window.__csp, and every dialog it opens
    (dismissed) in the list."""
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(f"{page.url}: {dialog.type} {dialog.message}")
        dialog.dismiss()

    page.add_init_script(WATCH)
    page.on("dialog", dismiss)
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
    yield page, dialogs


# Elements that input could have made active: event handlers, scripts other than the theme's.
INJECTED = r"""() => [...document.querySelectorAll('*')].flatMap((el) => {
  const found = [...el.attributes].filter((a) => a.name.startsWith('on'))
    .map((a) => `${el.tagName} ${a.name}`);
  if (el.tagName === 'SCRIPT' && el.type !== 'application/ld+json'
      && !/\/assets\/search(\.[0-9a-f]+)?\.js$/.test(el.src)) found.push('SCRIPT');
  return found;
})"""


def assert_nothing_ran(page: Page, dialogs: list[str]) -> None:
    assert page.evaluate("window.__pwn") is None
    assert dialogs == []
    assert page.evaluate("window.__csp") == []
    assert page.evaluate(INJECTED) == []


# --- the search page ------------------------------------------------------------------------


def test_searching_and_opening_every_filter_runs_nothing(
    hostile: Hostile, watched: tuple[Page, list[str]]
) -> None:
    """Whatever the widget draws: fails on Pagefind's bundled UI, which rendered the place
    filter's value as HTML, so that its `<img onerror>` ran for every visitor."""
    page, dialogs = watched
    page.goto(hostile.url + "search/?q=zanzibarone")
    expect(page.locator("#search a", has_text="zanzibarone")).to_have_count(2)
    for summary in page.locator("#search summary").all():
        summary.click()
    expect(page.locator(".search-filter-value")).to_have_count(5)  # loaded when opened
    # A broken image is complete before its error event runs: wait for both.
    page.wait_for_function("[...document.images].every((image) => image.complete)")
    page.evaluate("new Promise((done) => setTimeout(done))")
    assert page.evaluate("window.__pwn") is None
    assert dialogs == []


def test_markup_in_every_field_shows_as_text_in_results_and_filters(
    hostile: Hostile, watched: tuple[Page, list[str]]
) -> None:
    page, dialogs = watched
    page.goto(hostile.url + "search/?q=zanzibarone")
    titles = page.locator(".search-result-title")
    expect(titles).to_have_count(2)
    assert sorted(titles.all_inner_texts()) == [CURATED_TITLE, SEED_TITLE]
    curated = page.locator(".search-result", has_text=CURATED_TITLE).locator(".search-excerpt")
    assert curated.inner_text() == (
        f"Il corpo dello zanzibarone {IMG} {SCRIPT} con AT&T e &amp; nel codice."
    )
    assert curated.locator("mark").all_inner_texts() == ["zanzibarone"]
    place = page.locator(".search-result", has_text=CURATED_TITLE).locator(".dateline")
    assert place.inner_text() == HOSTILE_PLACE.upper()
    assert place.text_content() == HOSTILE_PLACE
    seed = page.locator(".search-result", has_text=SEED_TITLE).locator(".search-excerpt")
    expect(seed).to_contain_text(f"{IMG} parla dello zanzibarone {SCRIPT} e di")

    for summary in page.locator(".search-filter summary").all():
        summary.click()
    expect(page.locator(".search-filter-value")).to_have_text(
        ["2022", "senza data", "italiano", HOSTILE_PLACE, "Roma"]
    )
    # (Not the hostile place: Pagefind 1.5.2 matches no filter value that holds a `"`.)
    page.get_by_label("Roma", exact=False).last.check()
    expect(titles).to_have_count(1)
    expect(titles).to_have_text(SEED_TITLE)
    page.get_by_label("2022").check()
    expect(titles).to_have_count(0)
    expect(page.locator(".search-status")).to_have_text("Nessun risultato per «zanzibarone»")
    assert_nothing_ran(page, dialogs)


def test_markup_in_the_query_of_a_link_is_text(
    hostile: Hostile, watched: tuple[Page, list[str]]
) -> None:
    """/search/?q=… is a link anyone can send: the query is shown as typed, `$&` included."""
    page, dialogs = watched
    query = f"zanzibarone {IMG} $&"
    page.goto(hostile.url + "search/?q=" + quote(query))
    expect(page.locator(".site-search input")).to_have_value(query)
    expect(page.locator(".search-status")).to_have_text(re.compile(r"per «.*»$"))
    assert page.locator(".search-status").inner_text().endswith(f"per «{query}»")
    assert_nothing_ran(page, dialogs)


def test_every_page_of_the_hostile_site_runs_nothing(
    hostile: Hostile, watched: tuple[Page, list[str]]
) -> None:
    """Article, place, tag and listing pages show the same fields (and the caption)."""
    page, dialogs = watched
    pages = sorted(hostile.output.rglob("*.html"))
    assert len(pages) > 10
    for file in pages:
        page.goto(hostile.url + file.relative_to(hostile.output).as_posix(), wait_until="load")
        assert_nothing_ran(page, dialogs)
    article = next(p for p in pages if "titolo-del-seme" in str(p))
    page.goto(hostile.url + article.relative_to(hostile.output).as_posix())
    expect(page.locator("figcaption")).to_contain_text(CAPTION)


def test_the_policy_stops_an_inline_handler_that_slipped_through(
    hostile: Hostile, watched: tuple[Page, list[str]]
) -> None:
    """The second wall alone: markup put in the search page by a script still cannot run."""
    page, _ = watched
    page.goto(hostile.url + "search/")
    page.evaluate(
        """() => document.querySelector('main').insertAdjacentHTML('beforeend',
        '<img src="x" onerror="window.__pwn=1">')"""
    )
    expect(page.locator("main img")).to_have_count(1)
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.__pwn") is None
    assert page.evaluate("window.__csp") == ["script-src-attr inline"]


# --- the policy on every page ---------------------------------------------------------------


class _Head(HTMLParser):
    """The CSP metas of a page, and its scripts that are neither files nor JSON-LD data."""

    def __init__(self) -> None:
        super().__init__()
        self.policies: list[str] = []
        self.inline: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (values.get("http-equiv") or "").lower() == (
            "content-security-policy"
        ):
            self.policies.append(values.get("content") or "")
        data = values.get("type") == "application/ld+json"
        if tag == "script" and not values.get("src") and not data:
            self.inline.append(str(values))
        self.handlers += [f"<{tag} {name}>" for name, _ in attrs if name.startswith("on")]


def read_head(path: Path) -> _Head:
    head = _Head()
    head.feed(path.read_text(encoding="utf-8"))
    return head


def directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def test_every_page_carries_a_policy_without_inline_script(
    sample_site: tuple[Config, BuildResult],
) -> None:
    output = sample_site[0].output_dir
    pages = sorted(output.rglob("*.html"))
    assert len(pages) > 30
    for path in pages:
        where = path.relative_to(output).as_posix()
        head = read_head(path)
        assert len(head.policies) == 1, where
        policy = directives(head.policies[0])
        assert "'unsafe-inline'" not in head.policies[0], where
        assert "'unsafe-eval'" not in head.policies[0], where
        assert "frame-ancestors" not in policy, where  # ignored in a meta, with an error
        assert policy["object-src"] == ["'none'"], where
        assert policy["base-uri"] == ["'self'"], where
        wasm = ["'wasm-unsafe-eval'"] if where == "search/index.html" else []
        assert policy["script-src"] == ["'self'", *wasm], where
        assert (head.inline, head.handlers) == ([], []), where


def test_the_search_page_allows_only_the_sites_own_files(
    sample_site: tuple[Config, BuildResult],
) -> None:
    head = read_head(sample_site[0].output_dir / "search" / "index.html")
    assert directives(head.policies[0]) == {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }


def test_a_language_code_cannot_carry_markup(make_site: MakeSite) -> None:
    site = make_site({"articles/a.md": f"---\ntitle: A\nlang: '{IMG}'\n---\nTesto.\n"})
    _, result = build_site(site)
    assert [str(p) for p in result.problems] == [
        f"articles/a.md:3: 'lang': expected a language code such as 'it' or 'en', "
        f"got '{IMG}'; skipped"
    ]


# --- newsgen serve's live reload under the policy -------------------------------------------


def test_live_reload_overlay_shows_on_the_search_page_under_its_policy(
    tmp_path: Path, watched: tuple[Page, list[str]]
) -> None:
    """The overlay is styled through the CSSOM, which a policy without inline styles allows."""
    page, _ = watched
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    curated = site / "articles/camfranglais-forum.md"
    good = curated.read_text(encoding="utf-8")
    server = Server(site)
    try:
        page.goto(server.url + "search/?q=diplomatici")
        expect(page.locator(".search-result-title a").first).to_be_visible()
        save(curated, good.replace("tags: [langue française, Québec]", "tags: [langue"))
        overlay = page.locator("#newsgen-problems")
        expect(overlay).to_contain_text(
            "articles/camfranglais-forum.md:", timeout=RECOVER_DEADLINE_MS
        )
        assert overlay.evaluate("e => getComputedStyle(e).position") == "fixed"
        save(curated, good)
        expect(overlay).to_have_count(0, timeout=RECOVER_DEADLINE_MS)
        assert page.evaluate("window.__csp") == []
    finally:
        code, err = server.stop()
    assert code in (0, 130) and "Traceback" not in err
