"""The sample site in Debian's Chromium, served under its sub-path on 127.0.0.1: the dark scheme
is its own, every request a page makes succeeds, the header, skip link and feed link work, and
the pages read without JavaScript. (axe-core runs in tests/test_reader.py, on a phone and a
desktop in both schemes.)"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Request, Response

from newsgen.build import BuildResult
from newsgen.config import Config
from tests.site_pages import KINDS, serve


@pytest.fixture(scope="module")
def site_url(sample_site: tuple[Config, BuildResult]) -> Iterator[str]:
    with serve(sample_site[0].output_dir) as url:
        yield url


def path_of(kind: str) -> str:
    return KINDS[kind].removesuffix("index.html")


def test_axe_checks_the_dark_scheme_for_real(page: Page, site_url: str) -> None:
    """The dark run must not be the light page twice: the colours differ."""
    backgrounds = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.goto(site_url)
        backgrounds.append(page.evaluate("getComputedStyle(document.body).backgroundColor"))
    assert backgrounds == ["rgb(251, 250, 247)", "rgb(26, 25, 23)"]


def test_every_request_of_every_kind_of_page_succeeds_under_the_sub_path(
    page: Page, site_url: str
) -> None:
    """Pictures on other hosts are blocked (the tests run offline); a fetch that the next
    navigation cancels (a late icon) is not a failure."""
    failed: list[str] = []
    local: list[str] = []

    def seen(response: Response) -> None:
        local.append(response.url)
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    def lost(request: Request) -> None:
        if request.url.startswith(site_url) and request.failure != "net::ERR_ABORTED":
            failed.append(f"{request.url}: {request.failure}")

    page.route(lambda url: not url.startswith(site_url), lambda route: route.abort())
    page.on("response", seen)
    page.on("requestfailed", lost)
    for kind in KINDS:
        page.goto(site_url + path_of(kind))
        page.wait_for_load_state("load")
    assert failed == []
    assert all(url.startswith(site_url) for url in local)
    assert any(re.fullmatch(rf"{site_url}assets/style\.[0-9a-f]{{8}}\.css", u) for u in local)
    assert len(local) >= len(KINDS)


def test_header_links_lead_to_their_pages(page: Page, site_url: str) -> None:
    page.goto(site_url)
    expected = {
        "Archivio": ("archive/", "Archivio"),
        "Luoghi": ("places/", "Articoli per luogo"),
        "Argomenti": ("tags/", "Articoli per argomento"),
        "Lingue": ("languages/", "Articoli per lingua"),
    }
    for name, (path, heading) in expected.items():
        page.get_by_role("navigation", name="Principale").get_by_role("link", name=name).click()
        assert page.url == site_url + path
        assert page.locator("h1").inner_text() == heading
        page.get_by_role("link", name="Archivio di prova").first.click()
        assert page.url == site_url


def test_the_footer_s_atom_link_serves_atom_with_the_theme_s_stylesheet(
    page: Page, site_url: str
) -> None:
    page.goto(site_url)
    assert page.get_by_role("banner").get_by_role("link", name="Feed").count() == 0
    link = page.get_by_role("contentinfo").get_by_role("link", name="Atom", exact=True)
    assert link.get_attribute("href") == "/archivio/feed.xml"
    response = page.request.get(site_url + "feed.xml")
    assert response.ok
    instruction = re.match(
        r'<\?xml version="1.0" encoding="utf-8"\?>\n'
        r'<\?xml-stylesheet type="text/xsl" href="/archivio/(assets/feed\.[0-9a-f]{8}\.xsl)"\?>'
        r"\n<feed",
        response.text(),
    )
    assert instruction
    assert page.request.get(site_url + instruction[1]).ok


def test_skip_link_is_the_first_stop_and_moves_focus_to_main(page: Page, site_url: str) -> None:
    page.goto(site_url + path_of("article (fr, dated, tags)"))
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    assert skip.evaluate("e => e === document.activeElement")
    assert skip.is_visible()
    assert skip.inner_text() == "Vai al contenuto"  # the site's language, on a French article
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


@pytest.fixture
def no_script_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


def test_an_article_reads_without_javascript(no_script_page: Page, site_url: str) -> None:
    no_script_page.goto(site_url + path_of("article (it, undated, lead-in, source images)"))
    # The headline is the lede's first sentence: the h1 stays for assistive technology and
    # the sentence is shown once, in place, where the text begins.
    assert no_script_page.locator("h1").inner_text().startswith("Il governo federale del Belgio")
    lead = no_script_page.locator(".story .body p .lead-in")
    assert lead.inner_text().startswith("Il governo federale del Belgio")
    assert lead.is_visible()
    assert no_script_page.locator(".story .body p").count() == 6
    heading = no_script_page.get_by_role("heading", name="Immagini dalla pagina originale")
    assert heading.is_visible()
    assert no_script_page.locator(".source-images img").count() == 2
