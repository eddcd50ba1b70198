"""The sample site as readers see it, in Debian's Chromium: on a phone and a desktop, light and
dark, every kind of page passes axe-core (WCAG 2.2 AA, target size and colour contrast
included), the phone header leaves room for the page, nothing scrolls sideways at 320 px,
nothing shifts as the page loads, and no page asks another host for anything the inputs do
not name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from newsgen.build import BuildResult
from newsgen.config import Config
from tests.site_pages import KINDS, serve

VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
# Every WCAG 2.0–2.2 A and AA rule axe-core has, target size (2.5.8) among them.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}


@pytest.fixture(scope="module")
def site_url(sample_site: tuple[Config, BuildResult]) -> Iterator[str]:
    with serve(sample_site[0].output_dir) as url:
        yield url


@pytest.fixture(params=["desktop", "phone"])
def reader(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(**VIEWPORTS[request.param])
    # The tests run offline: pictures on other hosts are refused, not waited for.
    context.route(
        "**/*",
        lambda route: route.abort() if "127.0.0.1" not in route.request.url else route.continue_(),
    )
    yield context.new_page()
    context.close()


def path_of(kind: str) -> str:
    return KINDS[kind].removesuffix("index.html")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_axe_finds_no_violation_on_a_phone_or_a_desktop(
    reader: Page, site_url: str, kind: str, scheme: Literal["light", "dark"]
) -> None:
    reader.emulate_media(color_scheme=scheme)
    response = reader.goto(site_url + path_of(kind))
    assert response is not None and response.ok
    results = Axe().run(reader, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


def test_axe_runs_the_target_size_rule(reader: Page, site_url: str) -> None:
    """A run that left out 2.5.8 would pass every page: a 10 px link must fail it."""
    reader.goto(site_url)
    reader.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        ' \'<a href="#" style="display:inline-block;width:10px;height:10px;font-size:4px">x</a>'
        '<a href="#" style="display:inline-block;width:10px;height:10px;font-size:4px">y</a>\')'
    )
    results = Axe().run(reader, options=AXE_OPTIONS)
    assert "target-size" in results.generate_report()


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_phone_header_leaves_the_screen_to_the_page(
    browser: Browser, site_url: str, kind: str
) -> None:
    context = browser.new_context(**VIEWPORTS["phone"])
    page = context.new_page()
    page.goto(site_url + path_of(kind))
    bottom = page.evaluate("document.querySelector('.masthead').getBoundingClientRect().bottom")
    context.close()
    assert bottom <= 120


@pytest.fixture
def narrow(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True)
    context.route(
        "**/*",
        lambda route: route.abort() if "127.0.0.1" not in route.request.url else route.continue_(),
    )
    yield context.new_page()
    context.close()


# The shifts layout-shift entries report while the page loads, summed (CLS), once it is idle.
CLS = """new Promise(done => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: "layout-shift", buffered: true});
  requestAnimationFrame(() => requestAnimationFrame(() => done(total)));
})"""


@pytest.mark.parametrize("kind", list(KINDS))
def test_nothing_scrolls_sideways_at_320_px_or_shifts_while_loading(
    narrow: Page, site_url: str, kind: str
) -> None:
    narrow.goto(site_url + path_of(kind))
    narrow.wait_for_load_state("load")
    width = narrow.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1]
    assert narrow.evaluate(CLS) == 0


def test_the_front_page_weighs_under_30_kb_with_its_stylesheet(
    sample_site: tuple[Config, BuildResult],
) -> None:
    output = sample_site[0].output_dir
    (style,) = (output / "assets").glob("style.*.css")
    weight = sum(path.stat().st_size for path in (output / "index.html", style))
    assert weight <= 30 * 1024


def test_no_page_asks_another_host_for_what_the_inputs_do_not_name(
    browser: Browser, site_url: str, sample_site: tuple[Config, BuildResult]
) -> None:
    inputs = "".join(
        path.read_text(encoding="utf-8")
        for path in sorted(sample_site[0].root.rglob("*"))
        if path.suffix in (".txt", ".md")
    )
    context = browser.new_context()
    asked: list[str] = []

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith(site_url):
            route.continue_()
        else:
            asked.append(url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    for kind in KINDS:
        page.goto(site_url + path_of(kind))
        page.wait_for_load_state("load")
    context.close()
    assert [url for url in asked if url not in inputs] == []
