"""`newsgen check --published URL`: a deployed site checked over real HTTP, against a real
`newsgen serve` and against a plain standard-library server made to answer wrongly (missing
pages, a soft 404, wrong types and headers, a broken redirect, silence). No HTTP mocks."""

from __future__ import annotations

import functools
import http.server
import os
import pty
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from newsgen import headers
from newsgen.published import FEED, Pacer
from tests.conftest import MakeSite, build_site
from tests.test_serve import Server
from tests.util import in_process

BASE = "https://example.org/archivio/"
PREFIX = "/archivio/"
OLD = "vecchio/terzo/"
THIRD = "articles/napoli-terzo-articolo"
SITE = {
    "seeds/a.txt": "Roma – Primo articolo di prova, con un testo abbastanza lungo da leggere.\n",
    "seeds/b.txt": "Milano – Secondo articolo di prova, anche questo con un testo lungo.\n",
    "articles/terzo.md": "---\ntitle: Napoli terzo articolo\ndate: 2024-03-01\n"
    f"dateline: Napoli\nslug: napoli-terzo-articolo\naliases: [/{OLD}]\n---\n"
    "Il terzo articolo di prova, l'ultimo della piccola serie.\n",
    "newsgen.yaml": f"base_url: {BASE}\nlanguage: it\nper_page: 2\n",
}
FIX_HEADERS = "have the host send the headers of build/_headers (see Publishing in the manual)"
FIX_FILES = "publish all of build/ (see Publishing in the manual)"


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    site = make_site(SITE)
    _, result = build_site(site)
    assert result.problems == ()
    assert (site / "build" / OLD / "index.html").is_file()
    return site


def check(site: Path, url: str, *args: str) -> tuple[int, list[str], list[str]]:
    return in_process(
        "check", "--site", str(site), "--published", url, "--rate", "200", "-j", "4", *args
    ).lines()


# --- a host made of the standard library's server -------------------------------------------


class Host(http.server.SimpleHTTPRequestHandler):
    """Serves the build under PREFIX, sending the headers of its `_headers` (as Netlify and
    Cloudflare Pages do) and Atom's type for feeds; a test changes what it does wrong."""

    rules: tuple[headers.Rule, ...] = ()
    wrong: dict[str, Any] = {}  # noqa: RUF012 (each server's own subclass replaces it)
    seen: list[tuple[str, float]] = []  # noqa: RUF012
    flying = [0, 0]  # noqa: RUF012 (in flight now, most at once)
    lock = threading.Lock()

    def translate_path(self, path: str) -> str:
        inside = urlsplit(path).path
        if not inside.startswith(PREFIX):
            return str(Path(self.directory) / "outside-the-prefix")  # no such file
        return super().translate_path("/" + inside[len(PREFIX) :])

    def handle_one_request(self) -> None:
        with self.lock:
            self.flying[0] += 1
            self.flying[1] = max(self.flying)
        try:
            super().handle_one_request()
        finally:
            with self.lock:
                self.flying[0] -= 1

    def send_head(self) -> Any:
        self.seen.append((self.path, time.monotonic()))
        moved = self.wrong.get("moved", {}).get(urlsplit(self.path).path)
        if moved:
            self.send_response(301)
            self.send_header("Location", moved)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if self.wrong.get("soft404") and not Path(self.translate_path(self.path)).exists():
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return super().send_head()

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        name = str(path)
        if name.endswith("feed.xml"):
            return str(self.wrong.get("feed_type", FEED))
        if name.endswith(".css") and "css_type" in self.wrong:
            return str(self.wrong["css_type"])
        return super().guess_type(path)

    def end_headers(self) -> None:
        if self.wrong.get("headers", True):
            path = urlsplit(self.path).path
            for name, value in headers.for_path(self.rules, path).items():
                value = self.wrong.get(name, value)
                if value is not None:
                    self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on what the checker reports."""


@contextmanager
def host(output: Path, **wrong: Any) -> Iterator[tuple[str, type[Host]]]:
    """The build in `output` at http://127.0.0.1:<port>/archivio/, doing `wrong`."""
    rules = headers.parse((output / "_headers").read_text(encoding="utf-8"))
    handler = type(
        "Handler", (Host,), {"rules": rules, "wrong": wrong, "seen": [], "flying": [0, 0]}
    )
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(output))
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{PREFIX}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def pages_of(site: Path) -> int:
    return (site / "build" / "sitemap.xml").read_text(encoding="utf-8").count("<loc>")


# --- a host that does it right --------------------------------------------------------------


def test_a_host_that_serves_the_build_as_built_has_no_problem(site: Path) -> None:
    with host(site / "build") as (url, handler):
        code, out, err = check(site, url)
    assert (code, out) == (0, [])
    assert err == [
        f"Note: the sitemap lists pages at https://example.org/; their paths were asked of "
        f"{url.removesuffix(PREFIX)}/",
        f"Checked {url}: {len(handler.seen)} requests, {pages_of(site)} pages in its "
        "sitemap: 0 problems.",
    ]
    asked = {urlsplit(path).path for path, _ in handler.seen}
    assert {f"{PREFIX}{THIRD}/", f"{PREFIX}feed.xml", f"{PREFIX}{OLD}"} <= asked
    assert any(p.startswith(f"{PREFIX}assets/style.") for p in asked)
    assert any(p.startswith(f"{PREFIX}pagefind/") and ".pf_fragment" in p for p in asked)


def test_newsgen_serve_passes_but_for_the_headers_it_may_not_send(site: Path) -> None:
    """The preview that `newsgen check --published` is also meant for: every page, file,
    redirect and the 404, without the host headers (those are checked against the
    standard-library host above)."""
    server = Server(site)
    try:
        code, out, err = check(site, server.url, "--no-headers")
    finally:
        server.stop()
    assert (code, out) == (0, []), out
    assert err[-1].endswith(f"{pages_of(site)} pages in its sitemap: 0 problems.")


def test_newsgen_serve_works_without_base_url_and_is_checked_on_loopback(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """A site with no base_url (http://localhost:8000/) previews as any other; its sitemap's
    loopback address is no problem when the site checked is on loopback too."""
    site = make_site({k: v for k, v in SITE.items() if k != "newsgen.yaml"}, tmp_path / "local")
    server = Server(site)
    try:
        code, out, err = check(site, server.url, "--no-headers")
    finally:
        _, served = server.stop()
    assert "absolute URLs point to this machine" not in served
    assert (code, out) == (0, []), out
    here = server.url.removesuffix("/")
    assert err[0] == (
        f"Note: the sitemap lists pages at http://localhost:8000/; their paths were asked of "
        f"{here}/"
    )


# --- what a host gets wrong -----------------------------------------------------------------


def test_a_page_the_host_lacks_is_named_with_what_to_do(site: Path) -> None:
    shutil.rmtree(site / "build" / THIRD)
    with host(site / "build") as (url, _):
        code, out, _ = check(site, url)
    assert code == 1
    assert out == [
        f"{url}{THIRD}/: HTTP 404; the sitemap lists it; {FIX_FILES}",
        f"{url}{OLD}: an old URL of urls.yaml lands on {url}{THIRD}/ (HTTP 404), not on "
        f"{url}{THIRD}/; publish build/_redirects, or the redirect pages of build/ (see "
        "Publishing)",
    ]


def test_an_unknown_url_must_be_a_404(site: Path) -> None:
    with host(site / "build", soft404=True) as (url, _):
        code, out, _ = check(site, url)
    assert (code, out) == (
        1,
        [
            f"{url}newsgen-check-no-such-page/: HTTP 200; an unknown URL must answer 404 "
            "(with 404.html)"
        ],
    )


def test_a_redirect_page_the_host_lacks_is_named(site: Path) -> None:
    shutil.rmtree(site / "build" / OLD)
    with host(site / "build") as (url, _):
        code, out, _ = check(site, url)
    assert (code, out) == (
        1,
        [
            f"{url}{OLD}: an old URL of urls.yaml lands on {url}{OLD} (HTTP 404), not on "
            f"{url}{THIRD}/; publish build/_redirects, or the redirect pages of build/ (see "
            "Publishing)"
        ],
    )


def test_a_page_that_moves_and_a_redirect_that_leaves_the_site_are_named(site: Path) -> None:
    moved = {
        f"{PREFIX}{THIRD}/": f"http://localhost:1/archivio/{THIRD}/\x1b[2J",
        f"{PREFIX}{OLD}": "https://elsewhere.example.org/x",
    }
    with host(site / "build", moved=moved) as (url, handler):
        code, out, _ = check(site, url)
    assert code == 1
    assert out == [
        f"{url}{THIRD}/: HTTP 301 to http://localhost:1/archivio/{THIRD}/\\x1b[2J: a page the "
        "sitemap lists must answer itself; when the host moves every page (to https, to "
        "another name), set base_url to where it moves them and build again",
        f"{url}{OLD}: an old URL of urls.yaml lands on https://elsewhere.example.org/x "
        f"(another site, not asked), not on {url}{THIRD}/; publish build/_redirects, or the "
        "redirect pages of build/ (see Publishing)",
    ]
    assert all(not path.startswith("http") for path, _ in handler.seen)


def test_types_that_a_browser_refuses_or_misreads_are_problems(site: Path) -> None:
    with host(site / "build", css_type="text/plain", feed_type="application/xml") as (url, _):
        code, out, _ = check(site, url)
    styles = sorted(p.name for p in (site / "build" / "assets").glob("*.css"))
    feeds = sorted(
        p.relative_to(site / "build").as_posix() for p in (site / "build").rglob("feed.xml")
    )
    css = [
        f"{url}assets/{name}: served as text/plain, not text/css; have the host send that "
        "Content-Type (see Publishing in the manual)"
        for name in styles
    ]
    atom = (
        f"served as application/xml, not {FEED}; have the host send that Content-Type "
        "(see Publishing in the manual)"
    )
    assert code == 1
    assert out == [*css, *(f"{url}{name}: {atom}" for name in feeds)]
    # A host that cannot send headers (GitHub Pages) serves feeds as XML: with --no-headers
    # that is enough, a stylesheet's wrong type still is not.
    with host(site / "build", css_type="text/plain", feed_type="application/xml") as (again, _):
        code, out, _ = check(site, again, "--no-headers")
    assert (code, out) == (1, [line.replace(url, again) for line in css])


def test_headers_missing_or_different_from_build_headers_are_counted_past_five(
    site: Path,
) -> None:
    policy = "Content-Security-Policy"
    with host(site / "build", **{policy: None, "Cache-Control": "max-age=600"}) as (url, _):
        code, out, err = check(site, url)
    rules = headers.parse((site / "build" / "_headers").read_text(encoding="utf-8"))
    wanted = headers.for_path(rules, PREFIX)
    assert code == 1
    missing = f"no {policy} header (build/_headers gives {wanted[policy]!r}); {FIX_HEADERS}"
    cache = (
        f"Cache-Control is 'max-age=600', not {wanted['Cache-Control']!r} as build/_headers "
        f"gives; {FIX_HEADERS}"
    )
    assert f"{url}: {missing}" in out
    assert f"{url}: {cache}" in out
    assert sum(1 for line in out if line.endswith(missing)) == 6  # five named, then a count
    assert any(line.startswith("... and ") and line.endswith(missing) for line in out)
    assert err[-1].startswith(f"Checked {url}: ") and not err[-1].endswith(": 0 problems.")
    # --no-headers leaves them out.
    with host(site / "build", **{policy: None, "Cache-Control": "max-age=600"}) as (url, _):
        assert check(site, url, "--no-headers")[:2] == (0, [])


def test_a_sitemap_index_is_followed(site: Path) -> None:
    output = site / "build"
    sitemap = (output / "sitemap.xml").read_text(encoding="utf-8")
    head, _, rest = sitemap.partition("<url>")
    urls = ["<url>" + u for u in rest.rsplit("</urlset>", 1)[0].split("<url>") if u]
    for n, part in enumerate((urls[:2], urls[2:])):
        (output / f"sitemap-{n}.xml").write_text(head + "".join(part) + "</urlset>\n")
    (output / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{BASE}sitemap-0.xml</loc></sitemap>"
        f"<sitemap><loc>{BASE}sitemap-1.xml</loc></sitemap></sitemapindex>\n"
    )
    with host(output) as (url, handler):
        code, out, err = check(site, url)
    assert (code, out) == (0, [])
    assert err[-1].endswith(f"{len(urls)} pages in its sitemap: 0 problems.")
    asked = {urlsplit(path).path for path, _ in handler.seen}
    assert {f"{PREFIX}sitemap-0.xml", f"{PREFIX}sitemap-1.xml", f"{PREFIX}{THIRD}/"} <= asked


def test_a_url_without_the_sites_path_is_noted(site: Path) -> None:
    with host(site / "build") as (url, _):
        code, out, err = check(site, url.removesuffix("archivio/"), "--redirects", "0")
    assert code == 1
    assert out[0].endswith(f"sitemap.xml: HTTP 404; the sitemap lists every page; {FIX_FILES}")
    assert err[0] == (
        "Note: the build is for the path /archivio/, the URL checked has /: its pages link to "
        "files that are not there; give the URL with the site's path"
    )


def test_a_silent_host_is_no_answer_within_the_timeout(site: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)  # accepts, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}{PREFIX}"
        code, out, err = check(site, url, "--timeout", "0.3", "--redirects", "0")
    assert code == 1
    assert out[0] == (
        f"{url}sitemap.xml: no answer (timed out); the sitemap lists every page; {FIX_FILES}"
    )
    assert err[-1].startswith(f"Checked {url}: ")


def test_requests_are_bounded_in_number_at_once_and_per_second(site: Path) -> None:
    with host(site / "build") as (url, handler):
        in_process("check", "--site", str(site), "--published", url, "--rate", "40", "-j", "2")
    times = sorted(t for _, t in handler.seen)
    assert handler.flying[1] <= 2
    # Paced at 1/40 s from the first request on: the run cannot be shorter than that.
    assert times[-1] - times[0] >= (len(times) - 1) / 40 - 0.05


def test_the_pacer_spaces_requests_whatever_the_threads() -> None:
    pacer = Pacer(rate=50)
    started = time.monotonic()
    threads = [threading.Thread(target=pacer.wait) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The tenth request's turn comes nine intervals after the first's, at the soonest.
    assert pacer.count == 10
    assert time.monotonic() - started >= 9 / 50


# --- the command line -----------------------------------------------------------------------


def test_a_url_that_is_no_site_address_is_a_usage_error(site: Path) -> None:
    assert in_process("check", "--site", str(site), "--published", "example.org").lines() == (
        2,
        [],
        [
            "Error: --published: expected an absolute http(s) URL such as "
            "'https://example.org/', got 'example.org'"
        ],
    )


@pytest.mark.parametrize(("option", "value"), [("--rate", "0"), ("--timeout", "-1")])
def test_a_rate_or_timeout_of_nothing_is_a_usage_error(site: Path, option: str, value: str) -> None:
    ran = in_process(
        "check", "--site", str(site), "--published", "http://127.0.0.1:9/", option, value
    )
    assert ran.lines() == (2, [], [f"Error: {option}: expected a number above 0, got {value}"])


def test_without_a_build_there_is_nothing_to_check_against(make_site: MakeSite) -> None:
    site = make_site(SITE)
    code, _, err = in_process(
        "check", "--site", str(site), "--published", "http://127.0.0.1:9/"
    ).lines()
    assert (code, err) == (
        1,
        [f"Error: {site / 'build'} holds no built site; run 'newsgen build' first"],
    )


def test_a_terminal_shows_progress_and_clears_it(site: Path) -> None:
    with host(site / "build") as (url, _):
        controller, terminal = pty.openpty()
        try:
            command = [sys.executable, "-m", "newsgen", "check", "--site", str(site)]
            done = subprocess.Popen(
                [*command, "--published", url, "--rate", "100"],
                stdout=subprocess.DEVNULL,
                stderr=terminal,
            )
            os.close(terminal)
            seen = b""
            while True:
                ready, _, _ = select.select([controller], [], [], 30)
                if not ready:
                    break
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # the other side closed
                    break
                if not chunk:
                    break
                seen += chunk
            assert done.wait(timeout=30) == 0
        finally:
            os.close(controller)
    text = seen.decode()
    assert "\rchecked  [" in text and "\r\x1b[K" in text
    assert text.rstrip().endswith("0 problems.")
