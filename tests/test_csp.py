"""Every kind of page of the sample site, opened in Debian's Chromium through `newsgen serve`,
runs under the headers of `build/_headers` (its Content-Security-Policy above all) without a
single violation or console error: search with results, the feed shown through its XSLT
stylesheet, and live reload (its script, its event stream and the problems it shows)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, Route, expect

from newsgen import headers
from tests.conftest import SAMPLE
from tests.site_pages import KINDS
from tests.test_serve import RECOVER_DEADLINE_MS, Preview, Server, save

BASE = "/archivio/"
# Every violation of a policy, as the page reports it (set before any script of the page).
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  // The browser's own banner (below) is the event's target, or holds it in its shadow root.
  const banner = e.composedPath().some((node) => node.localName === 'xslt-warning-banner');
  window.__violations.push(`${banner ? 'browser ' : ''}${e.violatedDirective} ` +
    `${e.blockedURI || 'inline'} ${e.sourceFile}:${e.lineNumber}`);
}, true);
"""
# Chromium draws a banner of its own over a page made by XSLT (XSLT is deprecated), with
# style attributes and a click handler that a policy without 'unsafe-inline' blocks, and says
# so on the console (with each attribute's hash). Those, and only those, are the browser's.
BROWSERS = """async () => {
  const banner = document.querySelector('xslt-warning-banner');
  const handles = (e) => [...e.attributes].some((a) => a.name.startsWith('on'));
  const own = [...document.querySelectorAll('*')].filter((e) => e !== banner);
  const found = {hashes: [], handler: false, siteHandlers: own.filter(handles).length};
  if (!banner) return found;
  const inside = banner.shadowRoot ? [...banner.shadowRoot.querySelectorAll('*')] : [];
  found.handler = inside.some(handles);
  for (const element of [banner, ...inside].filter((e) => e.hasAttribute('style'))) {
    const digest = await crypto.subtle.digest(
      'SHA-256', new TextEncoder().encode(element.getAttribute('style')));
    found.hashes.push('sha256-' + btoa(String.fromCharCode(...new Uint8Array(digest))));
  }
  return found;
}"""
HANDLER = "console: Executing inline event handler violates"
# A tiny PNG, for the images the sample's articles show from other hosts (no network here).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    site = tmp_path_factory.mktemp("csp") / "site"
    shutil.copytree(SAMPLE, site)
    running = Server(site)
    yield running
    running.stop()


class Watched:
    """A page whose violations, console errors and script errors are kept."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.add_init_script(WATCH)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error.message}"))
        # Images of other hosts, answered here: what is checked is that the policy lets
        # them in (a blocked one is a violation), not that the host is reachable.
        page.route("http*://**/*", self._route)

    def _route(self, route: Route) -> None:
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            route.fulfill(status=200, content_type="image/png", body=PNG)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def problems(self, *, expected: tuple[str, ...] = ()) -> list[str]:
        """Every violation and console error, but `expected` ones and the browser's own."""
        found = self.page.evaluate("window.__violations || []")
        browsers = self.page.evaluate(BROWSERS)
        assert browsers["siteHandlers"] == 0  # so a blocked handler can only be the banner's

        def browsers_own(error: str) -> bool:
            if error.startswith(HANDLER):
                return bool(browsers["handler"])
            return any(f"'{h}'" in error for h in browsers["hashes"])

        errors = [e for e in self.errors if e not in expected and not browsers_own(e)]
        own = [v for v in found if not (v.startswith("browser ") and browsers["hashes"])]
        return [*errors, *(f"violation: {v}" for v in own)]


# The browser's line for the page itself, when it is the 404 page.
NOT_FOUND = (
    "console: Failed to load resource: the server responded with a status of 404 (Not Found)",
)


def path_of(file: str) -> str:
    return BASE + file.removesuffix("index.html")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_of_page_runs_under_the_policy(page: Page, server: Server, kind: str) -> None:
    watched = Watched(page)
    url = f"http://127.0.0.1:{server.port}{path_of(KINDS[kind])}"
    if kind == "not found":
        url = f"http://127.0.0.1:{server.port}{BASE}no/such/page/"
    response = page.goto(url)
    assert response is not None
    assert response.status == (404 if kind == "not found" else 200)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    # The stylesheet let in and read (a blocked one has no rules to read).
    assert page.evaluate("document.styleSheets[0].cssRules.length") > 10
    # Every image shown, those of other hosts too.
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert watched.problems(expected=NOT_FOUND if kind == "not found" else ()) == []


def test_search_finds_under_the_policy(page: Page, server: Server) -> None:
    """Pagefind's WebAssembly, its worker and its fetches, and the results drawn."""
    watched = Watched(page)
    page.goto(f"http://127.0.0.1:{server.port}{BASE}search/?q=Bundesregierung")
    expect(page.locator(".search-result-title a")).to_have_count(1)
    assert watched.problems() == []


def test_the_feed_shows_through_its_stylesheet_under_the_policy(page: Page, server: Server) -> None:
    watched = Watched(page)
    response = page.goto(f"http://127.0.0.1:{server.port}{BASE}feed.xml")
    assert response is not None and response.ok
    assert "content-security-policy" in response.headers
    expect(page.locator("main article h2").first).to_be_visible()
    assert page.evaluate("document.contentType") == "text/html"
    # Styled by the site's stylesheet, which the policy let in.
    assert page.evaluate("document.styleSheets.length") == 1
    assert page.evaluate("document.styleSheets[0].cssRules.length") > 10
    assert watched.problems() == []


def test_live_reload_and_its_problems_run_under_the_policy(tmp_path: Path, page: Page) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    footer = site / "templates/partials/footer.html"
    footer.parent.mkdir(parents=True, exist_ok=True)
    footer.write_text('<footer class="colophon"><p>Piede originale</p></footer>\n')
    server = Server(site)
    try:
        watched = Watched(page)
        page.goto(server.url)
        expect(page.locator("footer")).to_have_text("Piede originale")
        save(footer, '<footer class="colophon">\n{% if %}\n</footer>\n')
        expect(page.locator("#newsgen-problems")).to_be_visible(timeout=RECOVER_DEADLINE_MS)
        save(footer, '<footer class="colophon"><p>Piede corretto</p></footer>\n')
        expect(page.locator("footer")).to_have_text("Piede corretto", timeout=RECOVER_DEADLINE_MS)
        assert watched.problems() == []
    finally:
        server.stop()


def test_serve_sends_the_headers_of_the_build(server: Server) -> None:
    """What `_headers` says for each path, as Netlify and Cloudflare Pages would send it."""
    rules = headers.parse((server.site / "build" / "_headers").read_text())
    for path in (BASE, f"{BASE}feed.xml", f"{BASE}no/such/page/", f"{BASE}search/"):
        status, sent, _ = server.get(path)
        assert status in (200, 404), path
        for name, value in headers.for_path(rules, path).items():
            assert sent[name] == value, (path, name)
    for path in (BASE, f"{BASE}feed.xml", f"{BASE}search/"):
        assert server.get(path)[1]["Cache-Control"] == headers.REVALIDATE
    style = page_asset(server, "style.")
    status, sent, _ = server.get(style)
    assert status == 200
    assert sent["Cache-Control"] == headers.IMMUTABLE
    assert sent["X-Content-Type-Options"] == "nosniff"


def page_asset(server: Server, prefix: str) -> str:
    """The URL of the stylesheet the front page links (a published, fingerprinted name)."""
    _, _, body = server.get(BASE)
    text = body.decode()
    start = text.index(f'href="{BASE}assets/{prefix}')
    return text[start + len('href="') : text.index('"', start + len('href="'))]


def test_the_watch_sees_what_the_policy_blocks(tmp_path: Path, page: Page) -> None:
    """The checks above can fail: an inline style, an inline script and an image of a host
    the policy does not name, on a page served with the policy of `_headers`."""
    rules = headers.site_rules("/", {"https://images.example.org"})
    (tmp_path / "_headers").write_text(headers.file_text(rules, set()))
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><head><title>t</title></head><body>'
        '<p style="color: red">red</p><script>document.title = "ran"</script>'
        '<img src="https://images.example.org/a.png" alt="allowed">'
        '<img src="https://elsewhere.example.net/b.png" alt="blocked"></body></html>'
    )
    watched = Watched(page)
    preview = Preview(tmp_path).start()
    try:
        page.goto(f"http://127.0.0.1:{preview.port}/")
        expect(page.locator("img[alt=allowed]")).to_have_js_property("naturalWidth", 1)
        assert page.title() == "t"
        found = " ".join(watched.problems())
        assert "violation: style-src-attr inline" in found
        assert "violation: script-src-elem inline" in found
        assert "violation: img-src https://elsewhere.example.net/b.png" in found
        assert "images.example.org/a.png" not in found
    finally:
        preview.close()
