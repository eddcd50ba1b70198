"""`newsgen serve`, run as users run it: a subprocess on a copy of the sample site (whose
base_url has the path /archivio/), requests over HTTP and Debian's Chromium for live reload."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from newsgen.serve import Found, Moved, Served, locate, reloads
from tests.conftest import SAMPLE

START_DEADLINE = 90.0  # the first build loads the language model; the machine is shared
RELOAD_DEADLINE_MS = 3_000  # from saving a file to the page showing it (the bar)
RECOVER_DEADLINE_MS = 10_000  # for overlays and recoveries, which are not timed features
BASE = "/archivio/"
NEW_SEED = "seeds/900_0123456789abcdef.txt"
NEW_URL = BASE + "articles/prova-del-ricaricamento/"
NEW_TEXT = (
    "Prova del ricaricamento\n\nRoma – Il testo originale dell'articolo di prova "
    "racconta una giornata qualunque in città.\nUn secondo paragrafo resta uguale.\n"
)
OTHER_URL = BASE + "articles/sars-cov-2-surpasses-one-million-infections-worldwide/"


class Server:
    """One `newsgen serve --port 0` process; its output goes to files, read while it runs."""

    def __init__(self, site: Path, *options: str) -> None:
        self.site = site
        self.out = site.parent / "serve.out"
        self.err = site.parent / "serve.err"
        command = [sys.executable, "-m", "newsgen", "serve", "--site", str(site), "-j", "1"]
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                [*command, "--port", "0", *options], stdout=out, stderr=err
            )
        self.url = self._wait_for_url()
        match = re.match(r"http://([^/]+):(\d+)", self.url)
        assert match, self.url
        self.host, self.port = match[1], int(match[2])

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            found = re.search(r"at (http://\S+) \(Ctrl-C to stop\)", self.out.read_text())
            if found:
                return found[1]
            if self.process.poll() is not None:
                pytest.fail(f"newsgen serve exited:\n{self.err.read_text()}")
            time.sleep(0.05)
        pytest.fail(f"newsgen serve printed no URL:\n{self.err.read_text()}")

    def get(self, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        """The request target goes out exactly as written (no client-side normalising)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.putrequest(method, target, skip_accept_encoding=True)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def stop(self) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode, self.err.read_text()

    def wait_for_stderr(self, text: str) -> str:
        deadline = time.monotonic() + RECOVER_DEADLINE_MS / 1000
        while time.monotonic() < deadline:
            err = self.err.read_text()
            if text in err:
                return err
            time.sleep(0.05)
        pytest.fail(f"{text!r} not in the output of newsgen serve:\n{self.err.read_text()}")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    (site / NEW_SEED).write_text(NEW_TEXT, encoding="utf-8")
    return site


@pytest.fixture
def server(site: Path) -> Iterator[Server]:
    running = Server(site)
    yield running
    running.stop()


def save(path: Path, text: str) -> None:
    """As an editor saves: a new file renamed over the old one."""
    temporary = path.with_name(path.name + ".saving")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


# --- live reload ----------------------------------------------------------------------------


def test_saving_a_seed_reloads_the_open_page_with_the_new_text(
    server: Server, site: Path, page: Page
) -> None:
    other = page.context.new_page()
    other.goto(server.url + OTHER_URL.removeprefix(BASE))
    page.goto(server.url + NEW_URL.removeprefix(BASE))
    expect(page.locator("h1")).to_have_text("Prova del ricaricamento")
    page.evaluate("window.beforeEdit = true")
    other.evaluate("window.beforeEdit = true")

    save(site / NEW_SEED, NEW_TEXT.replace("testo originale", "testo cambiato"))

    expect(page.locator("main")).to_contain_text(
        "Il testo cambiato dell'articolo", timeout=RELOAD_DEADLINE_MS
    )
    assert page.evaluate("window.beforeEdit") is None  # a reload, not a patch
    server.wait_for_stderr("Rebuilt: ")
    # The other article's page did not change, so it was not reloaded.
    assert other.evaluate("window.beforeEdit") is True


def test_reload_script_is_served_but_never_written(server: Server, site: Path) -> None:
    status, headers, body = server.get(NEW_URL)
    assert status == 200
    tag = (
        b'<script src="/__newsgen/live.js" data-file="articles/prova-del-ricaricamento/index.html">'
    )
    assert tag in body
    on_disk = (site / "build/articles/prova-del-ricaricamento/index.html").read_bytes()
    assert b"__newsgen" not in on_disk
    assert body == on_disk.replace(b"</body>", tag + b"</script>\n</body>")
    assert headers["Content-Length"] == str(len(body))


def test_broken_template_shows_overlay_keeps_last_build_then_recovers(
    site: Path, page: Page
) -> None:
    footer = site / "templates/partials/footer.html"
    footer.parent.mkdir(parents=True)
    footer.write_text('<footer class="colophon"><p>Piede originale</p></footer>\n')
    server = Server(site)
    try:
        page.goto(server.url + NEW_URL.removeprefix(BASE))
        expect(page.locator("footer")).to_have_text("Piede originale")

        save(footer, '<footer class="colophon">\n{% if %}\n</footer>\n')

        overlay = page.locator("#newsgen-problems")
        expect(overlay).to_contain_text(
            "templates/partials/footer.html:2: template error: Expected an expression",
            timeout=RECOVER_DEADLINE_MS,
        )
        err = server.wait_for_stderr("templates/partials/footer.html:2: template error")
        assert (
            "Error: the change does not build; the preview keeps serving the last good build:"
            in err
        )
        status, _, body = server.get(NEW_URL)
        assert status == 200 and b"Piede originale" in body
        assert server.process.poll() is None

        save(footer, '<footer class="colophon"><p>Piede corretto</p></footer>\n')

        expect(page.locator("footer")).to_have_text("Piede corretto", timeout=RECOVER_DEADLINE_MS)
        expect(overlay).to_have_count(0)

        # An error that only rendering finds (StrictUndefined), then the fix.
        save(footer, '<footer class="colophon">\n<p>{{ nope }}</p></footer>\n')
        expect(overlay).to_contain_text(
            "templates/partials/footer.html:2: template error: 'nope' is undefined",
            timeout=RECOVER_DEADLINE_MS,
        )
        save(footer, '<footer class="colophon"><p>Piede finale</p></footer>\n')
        expect(page.locator("footer")).to_have_text("Piede finale", timeout=RECOVER_DEADLINE_MS)
        expect(overlay).to_have_count(0)
    finally:
        code, err = server.stop()
    assert code in (0, 130) and "Traceback" not in err


def test_bad_front_matter_keeps_the_article_served_then_recovers(
    server: Server, site: Path, page: Page
) -> None:
    curated = site / "articles/camfranglais-forum.md"
    good = curated.read_text(encoding="utf-8")
    url = BASE + "articles/camfranglais-evoque-au-forum-mondial-de-la-langue-francaise/"
    page.goto(server.url + url.removeprefix(BASE))

    save(curated, good.replace("tags: [langue française, Québec]", "tags: [langue française"))

    overlay = page.locator("#newsgen-problems")
    expect(overlay).to_contain_text("articles/camfranglais-forum.md:", timeout=RECOVER_DEADLINE_MS)
    assert server.get(url)[0] == 200  # the skipped article's page is still the last good one
    assert (site / "build" / url.removeprefix(BASE) / "index.html").is_file()

    save(curated, good.replace("Québec]", "Québec, Yaoundé]"))

    expect(page.locator("ul.tags")).to_contain_text("Yaoundé", timeout=RECOVER_DEADLINE_MS)
    expect(overlay).to_have_count(0)


# --- URLs as a static host serves them ------------------------------------------------------


def test_pages_are_served_under_the_base_path(server: Server) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}/archivio/"
    for target in ("/", "/archivio"):
        status, headers, _ = server.get(target)
        assert (status, headers["Location"]) == (301, "/archivio/"), target
    assert server.get(BASE)[0] == 200
    assert server.get(NEW_URL)[0] == 200
    assert server.get(NEW_URL.removeprefix("/archivio"))[0] == 404
    status, headers, _ = server.get(NEW_URL.rstrip("/") + "?q=1")
    assert (status, headers["Location"]) == (301, NEW_URL + "?q=1")


def test_content_types(server: Server, site: Path) -> None:
    search = site / "build/pagefind"
    search.mkdir(exist_ok=True)
    for name in ("pagefind.wasm", "en_1.pf_fragment", "en_1.pf_index", "pagefind.en.pf_meta"):
        (search / name).write_bytes(b"\0asm")
    (search / "pagefind.js").write_text("export {};")
    (search / "pagefind-entry.json").write_text("{}")
    expected = {
        BASE: "text/html; charset=utf-8",
        BASE + "feed.xml": "application/xml; charset=utf-8",
        BASE + "sitemap.xml": "application/xml; charset=utf-8",
        BASE + "robots.txt": "text/plain; charset=utf-8",
        BASE + "assets/style.css": "text/css; charset=utf-8",
        BASE + "assets/icon.svg": "image/svg+xml",
        BASE + "favicon.ico": "image/x-icon",
        BASE + "pagefind/pagefind.js": "text/javascript; charset=utf-8",
        BASE + "pagefind/pagefind-entry.json": "application/json",
        BASE + "pagefind/pagefind.wasm": "application/wasm",
        BASE + "pagefind/en_1.pf_fragment": "application/octet-stream",
        BASE + "pagefind/en_1.pf_index": "application/octet-stream",
        BASE + "pagefind/pagefind.en.pf_meta": "application/octet-stream",
        "/__newsgen/live.js": "text/javascript; charset=utf-8",
    }
    seen = {url: server.get(url)[1]["Content-Type"] for url in expected}
    assert seen == expected
    status, headers, body = server.get(BASE + "feed.xml", method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == str((site / "build/feed.xml").stat().st_size)


def test_unknown_url_is_404_with_the_sites_404_page(server: Server, site: Path) -> None:
    page_404 = (site / "build/404.html").read_bytes()
    for target in (BASE + "no/such/page/", BASE + "articles/nope", "/elsewhere/"):
        status, headers, body = server.get(target)
        assert status == 404, target
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert body.replace(b'<script src="/__newsgen/live.js" data-file=""></script>\n', b"") == (
            page_404
        )


def test_folder_without_index_is_404_not_a_listing(server: Server, site: Path) -> None:
    (site / "build/empty").mkdir()
    (site / "build/empty/note.txt").write_text("not listed")
    assert not (site / "build/articles/index.html").exists()
    for target in (BASE + "articles/", BASE + "articles", BASE + "empty/", BASE + "empty"):
        status, _, body = server.get(target)
        assert status == 404, target
        assert b"note.txt" not in body and b"prova-del-ricaricamento" not in body


def test_nothing_outside_the_output_folder_can_be_read(server: Server, site: Path) -> None:
    secret = site / "secret.txt"
    secret.write_text("SECRET-CONTENT")
    outside = site.parent / "outside"
    outside.mkdir()
    (outside / "index.html").write_text("SECRET-CONTENT")
    (site / "build/leak.txt").symlink_to(secret)
    (site / "build/leak").symlink_to(outside)
    escapes = [
        BASE + "../secret.txt",
        BASE + "../../site/secret.txt",
        BASE + "%2e%2e/secret.txt",
        BASE + "%2E%2E/%2e%2e/site/secret.txt",
        BASE + ".%2e/secret.txt",
        BASE + "..%2fsecret.txt",
        BASE + "%2e%2e%2fsecret.txt",
        BASE + "..%5csecret.txt",
        BASE + "..\\secret.txt",
        BASE + "%2e%2e%5csecret.txt",
        BASE + "%252e%252e/secret.txt",
        BASE + "/" + str(secret),
        BASE + "%2f" + str(secret).lstrip("/"),
        BASE + "leak.txt",
        BASE + "leak/",
        BASE + "leak/index.html",
        BASE + "leak",
        "/../secret.txt",
        "/%2e%2e/site/secret.txt",
    ]
    for target in escapes:
        status, _, body = server.get(target)
        assert status == 404, target
        assert b"SECRET-CONTENT" not in body, target


def test_links_that_stay_inside_the_output_are_served(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a/index.html").write_text("a")
    (tmp_path / "alias").symlink_to(tmp_path / "a")
    served = Served(tmp_path.resolve(), "/")
    index = (tmp_path / "a/index.html").resolve()
    assert locate("/alias/", served) == Found(index, "alias/index.html")
    assert locate("/alias?x=1", served) == Moved("/alias/?x=1")
    assert locate("/a/index.html", served) == Found(index, "a/index.html")


# --- start and stop -------------------------------------------------------------------------


def test_sigint_stops_cleanly_and_frees_the_port(server: Server) -> None:
    code, err = server.stop()
    assert code in (0, 130)
    assert "Traceback" not in err
    assert err.endswith("Stopped.\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", server.port))


def test_another_host_than_loopback_warns(site: Path) -> None:
    server = Server(site, "--host", "0.0.0.0")
    code, err = server.stop()
    assert err.startswith(
        "Warning: --host 0.0.0.0 makes the preview reachable from other machines; "
        "leave --host out to serve on 127.0.0.1 only.\n"
    )
    assert server.url.startswith("http://0.0.0.0:")
    assert code == 0


def test_busy_port_is_an_error_that_says_what_to_do(site: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "newsgen", "serve", "--site", str(site), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "choose another port with --port, or --port 0 for a free one\n"
    )


def test_a_changed_asset_reloads_every_page_and_search_files_do_not() -> None:
    assert reloads(frozenset({"index.html", "articles/a/index.html"})) == [
        "articles/a/index.html",
        "index.html",
    ]
    assert reloads(frozenset({"index.html", "assets/style.css"})) is None
    search = frozenset({"index.html", "pagefind/pagefind.js"})
    assert reloads(search) == ["index.html", "pagefind/pagefind.js"]
    assert reloads(None) is None


def poll_until(server: Server, target: str, text: bytes) -> bytes:
    deadline = time.monotonic() + RECOVER_DEADLINE_MS / 1000
    while time.monotonic() < deadline:
        body = server.get(target)[2]
        if text in body:
            return body
        time.sleep(0.05)
    pytest.fail(f"{text!r} never appeared in {target}:\n{server.err.read_text()}")


def test_a_new_templates_folder_and_newsgen_yaml_are_watched(server: Server, site: Path) -> None:
    assert not (site / "templates").exists()
    footer = site / "templates/partials/footer.html"
    footer.parent.mkdir(parents=True)
    footer.write_text('<footer class="colophon"><p>Piede nuovo</p></footer>\n')
    poll_until(server, NEW_URL, b"Piede nuovo")

    save(footer, '<footer class="colophon"><p>Piede rivisto</p></footer>\n')
    poll_until(server, NEW_URL, b"Piede rivisto")

    config = site / "newsgen.yaml"
    save(config, config.read_text().replace("Archivio di prova", "Archivio rinominato"))
    poll_until(server, NEW_URL, b"Archivio rinominato")


def test_strict_holds_a_change_that_only_warns(site: Path) -> None:
    server = Server(site, "--strict")
    try:
        curated = site / "articles/camfranglais-forum.md"
        good = curated.read_text(encoding="utf-8")
        url = BASE + "articles/camfranglais-evoque-au-forum-mondial-de-la-langue-francaise/"
        tagged = good.replace("Québec]", "Québec, Yaoundé]")
        # A visible change together with an unknown key, which is only a warning.
        save(curated, tagged.replace("tags:", "colour: red\ntags:"))
        err = server.wait_for_stderr("Error: the change does not build")
        assert "articles/camfranglais-forum.md:" in err and "'colour'" in err
        assert "Yaoundé".encode() not in server.get(url)[2]

        save(curated, tagged)
        poll_until(server, url, "Yaoundé".encode())
    finally:
        code, err = server.stop()
    assert code == 0 and "Traceback" not in err


def test_requests_during_rebuilds_get_whole_pages(server: Server, site: Path) -> None:
    bodies: list[tuple[int, bytes]] = []
    done = threading.Event()

    def fetch() -> None:
        while not done.is_set():
            status, _, body = server.get(NEW_URL)
            bodies.append((status, body))

    reader = threading.Thread(target=fetch)
    reader.start()
    try:
        for n in range(4):
            save(site / NEW_SEED, NEW_TEXT.replace("originale", f"versione {n}"))
            poll_until(server, NEW_URL, f"versione {n}".encode())
    finally:
        done.set()
        reader.join()
    assert len(bodies) > 4
    for status, body in bodies:
        assert status == 200
        assert body.endswith(b"</script>\n</body>\n</html>\n")
        assert body.count(b"<html") == 1
