"""`newsgen serve`, run as users run it: a subprocess on a copy of the sample site (whose
base_url has the path /archivio/), requests over HTTP and Debian's Chromium for live reload."""

from __future__ import annotations

import http.client
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from newsgen.guard import TOO_LARGE, Hosts, Refusal, check_target
from newsgen.serve import (
    MAX_STREAMS,
    Found,
    Hub,
    Missing,
    Moved,
    PreviewServer,
    Refused,
    Served,
    is_loopback,
    locate,
    reloads,
)
from newsgen.watch import Failed
from tests.conftest import SAMPLE

START_DEADLINE = 90.0  # the first build loads the language model; the machine is shared
RECOVER_DEADLINE_MS = 10_000  # a guard against hangs, not a speed bar (serve_timing measures)
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
        "Il testo cambiato dell'articolo", timeout=RECOVER_DEADLINE_MS
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

    expect(page.locator("ul.tag-list")).to_contain_text("Yaoundé", timeout=RECOVER_DEADLINE_MS)
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
    # The theme's assets, under the names a build gives them (with a hash of their content).
    named = {p.name.split(".")[0]: p.name for p in (site / "build/assets").iterdir()}
    expected = {
        BASE: "text/html; charset=utf-8",
        BASE + "feed.xml": "application/xml; charset=utf-8",
        BASE + "sitemap.xml": "application/xml; charset=utf-8",
        BASE + "robots.txt": "text/plain; charset=utf-8",
        BASE + "assets/" + named["style"]: "text/css; charset=utf-8",
        BASE + "assets/" + named["icon"]: "image/svg+xml",
        BASE + "assets/" + named["feed"]: "application/xml; charset=utf-8",
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


# --- bad requests ---------------------------------------------------------------------------

GUARD = 60.0  # seconds: only so that a broken server cannot hang the suite


class Preview:
    """The preview's HTTP server in this process, over a small output folder; what it
    reports is kept in `reports`."""

    def __init__(self, root: Path, *, host: str = "127.0.0.1", limit: int = MAX_STREAMS) -> None:
        self.reports: list[object] = []  # what the command line would print
        self.hub = Hub(Served(root.resolve(), "/"), limit=limit)
        self.server = PreviewServer((host, 0), self.hub, self.reports.append)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))

    def start(self) -> Preview:
        self.thread.start()
        return self

    def close(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join()
        self.server.server_close()
        self.hub.close()

    def exchange(self, data: bytes) -> bytes:
        """Send `data` on one connection; everything received until the server closes it."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=GUARD) as connection:
            connection.sendall(data)
            received = b""
            while chunk := connection.recv(65536):
                received += chunk
            return received

    def request(self, target: bytes, *lines: bytes, method: bytes = b"GET") -> bytes:
        host = b"Host: 127.0.0.1:%d\r\n" % self.port
        return method + b" " + target + b" HTTP/1.1\r\n" + host + b"".join(lines) + b"\r\n"


def answers(received: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The responses in `received`, one after the other (each with a Content-Length)."""
    found = []
    while received:
        head, _, received = received.partition(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        headers = dict(field.split(": ", 1) for field in fields)
        length = int(headers.get("Content-Length", len(received)))
        found.append((int(status_line.split()[1]), headers, received[:length]))
        received = received[length:]
    return found


@pytest.fixture
def preview(tmp_path: Path) -> Iterator[Preview]:
    output = tmp_path / "build"
    (output / "a").mkdir(parents=True)
    (output / "index.html").write_text("<body>home</body>")
    (output / "a/index.html").write_text("<body>A</body>")
    (output / "404.html").write_text("<body>missing</body>")
    running = Preview(output).start()
    yield running
    running.close()


def refused(status: int, reason: str) -> bytes:
    return f"{status} {HTTPStatus(status).phrase}: {reason}\n".encode()


NUL = "the path holds a NUL byte"
CONTROL = "the path holds a control character"


@pytest.mark.parametrize(
    ("target", "status", "reason"),
    [
        (b"/%00", 400, NUL),
        (b"/a/%00/", 400, NUL),
        (b"/a\x00b", 400, NUL),
        (b"/a%0d%0aSet-Cookie:%20x=1", 400, CONTROL),
        (b"/a%1b[31m", 400, CONTROL),
        (b"/a\x7fb", 400, CONTROL),
        (b"/a\x1b[31mred", 400, CONTROL),
        (b"/a%zz/", 400, "the path holds a % that is not followed by two hexadecimal digits"),
        (b"/a%4", 400, "the path holds a % that is not followed by two hexadecimal digits"),
        (b"/%ff/", 400, "the path is not UTF-8 once its %-escapes are decoded"),
        (b"/caf\xc3\xa9/", 400, "the request target holds bytes that are not %-escaped"),
        (b"http://evil.example/", 400, "the request target is not a path that starts with /"),
        (b"/" + b"a" * 5000, 414, "the path is longer than 4,096 bytes"),
        (b"/" + b"%C3%A9" * 128 + b"/", 414, "a segment of the path is longer than 255 bytes"),
        (b"/" + b"a/" * 4100, 414, "the request line is longer than 8,192 bytes"),
    ],
)
def test_a_malformed_or_too_long_path_is_refused_with_one_line(
    preview: Preview, target: bytes, status: int, reason: str
) -> None:
    received = preview.exchange(preview.request(target) + preview.request(b"/a/"))
    # One answer: the request after it on the connection is not read.
    [(seen, headers, body)] = answers(received)
    assert (seen, body) == (status, refused(status, reason))
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Connection"] == "close"
    [report] = preview.reports
    assert isinstance(report, Refused)
    assert report.detail.endswith(f": {refused(status, reason).decode()}")
    assert report.detail.count("\n") == 1 and "Traceback" not in report.detail


def test_the_console_line_names_the_request_and_escapes_control_characters(
    preview: Preview,
) -> None:
    preview.exchange(preview.request(b"/%00"))
    preview.exchange(preview.request(b"/a\x1b[31mred"))
    preview.exchange(preview.request(b"/" + b"a" * 5000))
    assert preview.reports == [
        Refused(detail=f"Refused GET /%00 from 127.0.0.1: 400 Bad Request: {NUL}\n"),
        Refused(detail=f"Refused GET /a\\x1b[31mred from 127.0.0.1: 400 Bad Request: {CONTROL}\n"),
        Refused(
            detail="Refused GET /" + "a" * 95 + "... from 127.0.0.1: 414 Request-URI Too Long: "
            "the path is longer than 4,096 bytes\n"
        ),
    ]


@pytest.mark.parametrize(
    ("line", "status", "reason"),
    [
        (b"GET / HTTP/1.1 extra", 400, "Bad request version ('extra')"),
        (b"GARBAGE", 400, "Bad request syntax ('GARBAGE')"),
        (b"GET / HTTP/2.0", 505, "Invalid HTTP version (2.0)"),
    ],
)
def test_a_request_the_standard_library_cannot_parse_is_answered_the_same_way(
    preview: Preview, line: bytes, status: int, reason: str
) -> None:
    [(seen, headers, body)] = answers(preview.exchange(line + b"\r\n\r\n"))
    assert (seen, body) == (status, refused(status, reason))
    assert headers["Connection"] == "close"
    [report] = preview.reports
    assert report == Refused(detail=f"Refused a request from 127.0.0.1: {body.decode()}")


@pytest.mark.parametrize("method", [b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"BREW"])
def test_methods_other_than_get_and_head_are_405_with_allow(
    preview: Preview, method: bytes
) -> None:
    request = preview.request(b"/", b"Content-Length: 5\r\n", method=method) + b"hello"
    [(status, headers, body)] = answers(preview.exchange(request + preview.request(b"/a/")))
    reason = f"{method.decode()} is not allowed; the preview answers GET and HEAD"
    assert (status, body) == (405, refused(405, reason))
    assert (headers["Allow"], headers["Connection"]) == ("GET, HEAD", "close")


def test_head_of_a_refused_request_has_no_body(preview: Preview) -> None:
    [(status, headers, body)] = answers(preview.exchange(preview.request(b"/%00", method=b"HEAD")))
    assert (status, body) == (400, b"")
    assert headers["Content-Length"] == str(len(refused(400, NUL)))


def test_a_body_is_read_and_dropped_so_the_next_request_is_in_step(preview: Preview) -> None:
    sized = preview.request(b"/", b"Content-Length: 5\r\n") + b"hello"
    chunked = preview.request(b"/a/", b"Transfer-Encoding: chunked\r\n")
    chunked += b"5;name=value\r\nhello\r\n3\r\nGET\r\n0\r\nTrailer: x\r\n\r\n"
    last = preview.request(b"/a/", b"Connection: close\r\n")
    received = answers(preview.exchange(sized + chunked + last))
    assert [(status, body[:14]) for status, _, body in received] == [
        (200, b"<body>home<scr"),
        (200, b"<body>A<script"),
        (200, b"<body>A<script"),
    ]
    assert preview.reports == []


@pytest.mark.parametrize(
    ("lines", "status", "reason"),
    [
        ([b"Content-Length: 65537\r\n"], 413, TOO_LARGE),
        ([b"Transfer-Encoding: chunked\r\n"], 413, TOO_LARGE),  # with a 64 KiB + 1 chunk
        (
            [b"Content-Length: 5\r\n", b"Content-Length: 6\r\n"],
            400,
            "Content-Length 5, 6 is not one number",
        ),
        ([b"Content-Length: -1\r\n"], 400, "Content-Length -1 is not one number"),
        (
            [b"Content-Length: 5\r\n", b"Transfer-Encoding: chunked\r\n"],
            400,
            "the request has both Transfer-Encoding and Content-Length",
        ),
        (
            [b"Transfer-Encoding: gzip, chunked\r\n"],
            400,
            "Transfer-Encoding gzip, chunked is not understood",
        ),
    ],
)
def test_a_body_that_cannot_be_dropped_so_is_refused_and_the_connection_closed(
    preview: Preview, lines: list[bytes], status: int, reason: str
) -> None:
    body = b"10001\r\n" if b"Transfer-Encoding: chunked\r\n" in lines else b""
    # Only the head of the body is sent: the answer and the close come without the rest.
    request = preview.request(b"/", *lines) + body
    [(seen, headers, text)] = answers(preview.exchange(request + preview.request(b"/a/")))
    assert (seen, text) == (status, refused(status, reason))
    assert headers["Connection"] == "close"


def test_a_malformed_chunk_is_400(preview: Preview) -> None:
    request = preview.request(b"/", b"Transfer-Encoding: chunked\r\n") + b"zz\r\nhello\r\n0\r\n\r\n"
    [(status, _, body)] = answers(preview.exchange(request))
    assert (status, body) == (400, refused(400, "a chunk of the request body is malformed"))


def served_names(port: int) -> str:
    return (
        f"this preview answers to localhost:{port}, 127.0.0.1:{port}, [::1]:{port}; "
        "to reach it by another name, start it with --host NAME"
    )


def test_only_the_previews_own_host_names_are_answered(preview: Preview) -> None:
    port = preview.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}", f"[::1]:{port}"):
        request = b"GET /a/ HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host.encode()
        [(status, _, _)] = answers(preview.exchange(request))
        assert status == 200, host
    for host in (f"evil.example:{port}", f"localhost:{port + 1}", "127.0.0.1", "127.0.0.1.nip.io"):
        for target in (b"/a/", b"/__newsgen/events", b"/__newsgen/live.js"):
            request = b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, host.encode())
            [(status, _, body)] = answers(preview.exchange(request))
            reason = f"the host {host!r} is not served here; {served_names(port)}"
            assert (status, body) == (400, refused(400, reason)), (host, target)
    for hosts, heard in (([], "no Host header"), ([port, port], "more than one Host header")):
        fields = b"".join(b"Host: 127.0.0.1:%d\r\n" % p for p in hosts)
        [(status, _, body)] = answers(preview.exchange(b"GET / HTTP/1.1\r\n" + fields + b"\r\n"))
        reason = f"the request has {heard}; {served_names(port)}"
        assert (status, body) == (400, refused(400, reason))


def test_host_names_of_another_address() -> None:
    assert Hosts.of("myhost.local", 8000).check(["myhost.local:8000"]) is None
    assert Hosts.of("192.168.1.20", 8000).check(["192.168.1.20:8000"]) is None
    assert Hosts.of("fe80::1", 8000).check(["[FE80::1]:8000"]) is None
    assert Hosts.of("127.0.0.1", 80).check(["localhost"]) is None  # port 80 goes unsaid
    everywhere = Hosts.of("0.0.0.0", 8000)
    assert everywhere.check(["192.168.1.20:8000"]) is None
    assert everywhere.check(["[fd00::5]:8000"]) is None
    assert everywhere.check(["evil.example:8000"]) == Refusal(
        400,
        "the host 'evil.example:8000' is not served here; this preview answers to "
        "localhost:8000, 127.0.0.1:8000, [::1]:8000, 0.0.0.0:8000 and any IP address of this "
        "machine; to reach it by another name, start it with --host NAME",
    )
    assert everywhere.check(["192.168.1.20:8001"]) is not None


def test_check_target_accepts_what_a_browser_sends() -> None:
    for target in ("/", "/archivio/articles/caff%C3%A8/", "/search/?q=%00%zz", "/a%2Fb"):
        assert check_target(target) is None, target


# --- many open pages ------------------------------------------------------------------------


def connect_all(port: int, count: int) -> list[socket.socket]:
    """`count` connections opened at once, as pages do when they reconnect together."""
    streams = []
    for _ in range(count):
        stream = socket.socket()
        stream.setblocking(False)
        stream.connect_ex(("127.0.0.1", port))
        streams.append(stream)
    with selectors.DefaultSelector() as selector:
        for stream in streams:
            selector.register(stream, selectors.EVENT_WRITE, stream)
        waiting, deadline = set(streams), time.monotonic() + GUARD
        while waiting and time.monotonic() < deadline:
            for key, _ in selector.select(1.0):
                selector.unregister(key.data)
                waiting.discard(key.data)
    if waiting:
        for stream in streams:
            stream.close()
        pytest.fail(f"{len(waiting)} of {count} connections were neither accepted nor queued")
    for stream in streams:
        assert stream.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        stream.setblocking(True)
        stream.settimeout(GUARD)
    return streams


def read_until(streams: list[socket.socket], wanted: bytes) -> list[bytes]:
    """What each stream received, read until it holds `wanted`."""
    received = {stream: b"" for stream in streams}
    with selectors.DefaultSelector() as selector:
        for stream in streams:
            selector.register(stream, selectors.EVENT_READ, stream)
        deadline = time.monotonic() + GUARD
        while selector.get_map() and time.monotonic() < deadline:
            for key, _ in selector.select(1.0):
                data = key.data.recv(65536)
                received[key.data] += data
                if wanted in received[key.data] or not data:
                    selector.unregister(key.data)
    return list(received.values())


def test_pages_that_connect_while_the_server_is_busy_wait_rather_than_being_dropped(
    tmp_path: Path,
) -> None:
    (tmp_path / "index.html").write_text("<body>home</body>")
    # Not accepting yet, as when every page reconnects during a rebuild: the kernel must keep
    # the 200 connections waiting (the default queue of 5 drops the rest, retried 1, 3, 7 s on).
    preview = Preview(tmp_path)
    streams: list[socket.socket] = []
    try:
        streams = connect_all(preview.port, 200)
        for stream in streams:
            stream.sendall(preview.request(b"/__newsgen/events"))
        preview.start()
        received = read_until(streams, b"retry: 1000\n\n")
        assert all(r.startswith(b"HTTP/1.1 200 OK\r\n") for r in received)
        assert all(r.endswith(b"retry: 1000\n\n") for r in received)
    finally:
        preview.close()
        for stream in streams:
            stream.close()


def test_event_streams_beyond_the_cap_get_503_and_a_closed_page_frees_its_place(
    tmp_path: Path,
) -> None:
    preview = Preview(tmp_path, limit=3).start()
    streams: list[socket.socket] = []
    try:
        streams = connect_all(preview.port, 3)
        for stream in streams:
            stream.sendall(preview.request(b"/__newsgen/events"))
        read_until(streams, b"retry: 1000\n\n")
        [(status, headers, body)] = answers(preview.exchange(preview.request(b"/__newsgen/events")))
        busy = "3 open pages listen for reloads already; close some, then reload"
        assert (status, body, headers["Connection"]) == (503, refused(503, busy), "close")

        streams.pop().close()
        deadline = time.monotonic() + GUARD
        while preview.hub.streams.count() == 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        [stream] = connect_all(preview.port, 1)
        stream.sendall(preview.request(b"/__newsgen/events"))
        assert read_until([stream], b"retry: 1000\n\n")[0].startswith(b"HTTP/1.1 200 OK\r\n")
        streams.append(stream)

        preview.hub.announce(Failed(problems=("templates/base.html:3: template error",)))
        for text in read_until(streams, b"\n\n"):
            assert text == (
                b'event: problems\ndata: {"messages": ["templates/base.html:3: template error"]}'
                b"\n\n"
            )
        assert all(isinstance(r, Refused) for r in preview.reports)
    finally:
        preview.close()
        for stream in streams:
            stream.close()


def test_head_of_the_event_stream_is_its_headers(preview: Preview) -> None:
    received = preview.exchange(preview.request(b"/__newsgen/events", method=b"HEAD"))
    assert received == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
        b"Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
    )


def test_an_edit_reaches_200_open_pages_and_pages_are_still_served(
    server: Server, site: Path
) -> None:
    streams = connect_all(server.port, 200)
    try:
        for stream in streams:
            stream.sendall(
                b"GET /__newsgen/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % server.port
            )
        assert all(r.endswith(b"retry: 1000\n\n") for r in read_until(streams, b"retry: 1000\n\n"))

        save(site / NEW_SEED, NEW_TEXT.replace("testo originale", "testo per duecento"))

        reload = b'event: reload\ndata: {"files": ['
        for text in read_until(streams, b"]}\n\n"):
            assert reload in text and b'"articles/prova-del-ricaricamento/index.html"' in text
        status, _, body = server.get(NEW_URL)
        assert status == 200 and b"testo per duecento" in body
    finally:
        for stream in streams:
            stream.close()
    code, err = server.stop()
    assert code == 0 and "Traceback" not in err


def test_a_malformed_request_gets_an_answer_and_one_line_on_the_console(server: Server) -> None:
    def send(target: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", server.port), timeout=GUARD) as connection:
            connection.sendall(
                b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (target, server.port)
            )
            return connection.recv(65536)

    assert send(BASE.encode() + b"\x00").startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert send(BASE.encode() + b"a" * 300).startswith(b"HTTP/1.1 414 Request-URI Too Long\r\n")
    assert server.get(BASE)[0] == 200
    code, err = server.stop()
    assert code == 0 and "Traceback" not in err
    assert f"\nRefused GET {BASE}\\x00 from 127.0.0.1: 400 Bad Request: {NUL}\n" in err
    shown = f"GET {BASE}{'a' * 300}"[:100] + "..."  # long targets are cut short on the console
    assert (
        f"\nRefused {shown} from 127.0.0.1: 414 Request-URI Too Long: "
        "a segment of the path is longer than 255 bytes\n"
    ) in err


def test_live_reload_runs_under_a_content_security_policy(tmp_path: Path, page: Page) -> None:
    # The policy the theme's pages carry: only the site's own scripts, no inline code or style.
    policy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'"
    (tmp_path / "index.html").write_text(
        f'<!doctype html><html><head><meta http-equiv="Content-Security-Policy" '
        f'content="{policy}"><title>t</title></head><body><h1>home</h1></body></html>'
    )
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation', "
        "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI))"
    )
    preview = Preview(tmp_path).start()
    try:
        page.goto(f"http://127.0.0.1:{preview.port}/")
        deadline = time.monotonic() + GUARD
        while preview.hub.streams.count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        preview.hub.announce(Failed(problems=("templates/base.html:3: template error",)))
        expect(page.locator("#newsgen-problems")).to_contain_text(
            "templates/base.html:3: template error"
        )
        assert page.evaluate("window.__csp") == []
    finally:
        preview.close()


# --- changes that do not build, and the preview that outlives them ---------------------------

STILL = "Error: the change does not build; the preview keeps serving the last good build:\n"


def problems_shown(server: Server) -> bytes:
    """What a page that opens now is told first: the problems of the latest change."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=GUARD) as connection:
        connection.sendall(
            b"GET /__newsgen/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % server.port
        )
        received = b""
        while received.count(b"\n\n") < 2 and (chunk := connection.recv(65536)):
            received += chunk
    return received.partition(b"retry: 1000\n\n")[2]


def problems_event(*messages: str) -> bytes:
    data = json.dumps({"messages": list(messages)}, ensure_ascii=False)
    return f"event: problems\ndata: {data}\n\n".encode()


def test_a_broken_newsgen_yaml_keeps_the_last_build_served_then_a_fix_rebuilds(
    server: Server, site: Path
) -> None:
    config = site / "newsgen.yaml"
    good = config.read_text(encoding="utf-8")
    save(config, good.replace("title: Archivio di prova", "title: Archivio: di prova"))

    problem = "newsgen.yaml:1: not valid YAML (mapping values are not allowed here)"
    server.wait_for_stderr(STILL + problem + "\n")
    assert problems_shown(server) == problems_event(problem)
    status, _, body = server.get(NEW_URL)
    assert status == 200 and b"Archivio di prova" in body

    save(config, good.replace("Archivio di prova", "Archivio riparato"))

    poll_until(server, NEW_URL, b"Archivio riparato")
    code, err = server.stop()
    assert code == 0 and "Traceback" not in err


def test_an_output_folder_that_cannot_be_used_keeps_the_last_build_served_then_a_fix_rebuilds(
    server: Server, site: Path
) -> None:
    config = site / "newsgen.yaml"
    good = config.read_text(encoding="utf-8")
    save(config, good + "output: seeds/out\n")

    seeds = (site / "seeds").resolve()
    problem = (
        f"output folder {seeds / 'out'} overlaps source folder {seeds}; choose another output "
        "folder with --output"
    )
    server.wait_for_stderr(STILL + problem + "\n")
    assert problems_shown(server) == problems_event(problem)
    assert server.get(NEW_URL)[0] == 200
    assert not (seeds / "out").exists()

    save(config, good.replace("Archivio di prova", "Archivio riparato"))

    poll_until(server, NEW_URL, b"Archivio riparato")
    code, err = server.stop()
    assert code == 0 and "Traceback" not in err


def test_a_rebuild_that_crashes_is_shown_in_full_and_the_next_change_builds(site: Path) -> None:
    footer = site / "templates/partials/footer.html"
    footer.parent.mkdir(parents=True)
    footer.write_text('<footer class="colophon"><p>Piede originale</p></footer>\n')
    server = Server(site)
    try:
        # Not a template error: Jinja lets the ZeroDivisionError through, as any Python error.
        save(footer, '<footer class="colophon"><p>{{ 1 / 0 }}</p></footer>\n')

        problem = "the build failed: ZeroDivisionError: division by zero"
        server.wait_for_stderr(STILL + problem + "\nTraceback (most recent call last):\n")
        err = server.wait_for_stderr("\nZeroDivisionError: division by zero\n")
        assert err.endswith("\nZeroDivisionError: division by zero\n")
        assert problems_shown(server) == problems_event(problem)
        status, _, body = server.get(NEW_URL)
        assert status == 200 and b"Piede originale" in body
        assert sorted((site / "build").rglob(".newsgen-*")) == []

        save(footer, '<footer class="colophon"><p>Piede corretto</p></footer>\n')

        poll_until(server, NEW_URL, b"Piede corretto")
    finally:
        code, err = server.stop()
    assert code == 0


def test_open_opens_the_site_once_and_a_new_base_url_is_announced(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" >> "{opened}"\n')
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    server = Server(site, "--open")
    try:
        deadline = time.monotonic() + RECOVER_DEADLINE_MS / 1000
        while not opened.is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened.read_text() == server.url + "\n"

        config = site / "newsgen.yaml"
        save(config, config.read_text().replace("example.org/archivio/", "example.org/notizie/"))

        output = (site / "build").resolve()
        moved = f"Serving {output} at http://127.0.0.1:{server.port}/notizie/ (Ctrl-C to stop)\n"
        deadline = time.monotonic() + RECOVER_DEADLINE_MS / 1000
        while moved not in server.out.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.out.read_text() == f"Serving {output} at {server.url} (Ctrl-C to stop)\n" + (
            moved
        )
        assert server.get("/notizie/" + NEW_URL.removeprefix(BASE))[0] == 200
        assert server.get(NEW_URL)[0] == 404
        assert opened.read_text() == server.url + "\n"  # not again
    finally:
        code, err = server.stop()
    assert code == 0 and "Traceback" not in err


def test_an_output_folder_that_cannot_be_used_at_start_is_exit_1(site: Path) -> None:
    command = [sys.executable, "-m", "newsgen", "serve", "--site", str(site), "--port", "0"]
    done = subprocess.run(
        [*command, "--output", "seeds"], capture_output=True, text=True, timeout=120
    )
    seeds = (site / "seeds").resolve()
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"Error: output folder {seeds} overlaps source folder {seeds}; choose another output "
        "folder with --output\n"
    )


def test_loopback_hosts_are_told_from_the_others() -> None:
    hosts = ("localhost", "127.0.0.1", "127.0.0.2", "::1", "0.0.0.0", "::", "10.0.0.1", "pc.lan")
    assert [h for h in hosts if is_loopback(h)] == ["localhost", "127.0.0.1", "127.0.0.2", "::1"]


def test_an_ipv6_address_is_listened_on(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<body>home</body>")
    preview = Preview(tmp_path, host="::1").start()
    try:
        assert preview.server.url("/") == f"http://[::1]:{preview.port}/"
        with socket.create_connection(("::1", preview.port), timeout=GUARD) as connection:
            connection.sendall(
                b"GET / HTTP/1.1\r\nHost: [::1]:%d\r\nConnection: close\r\n\r\n" % preview.port
            )
            received = b""
            while chunk := connection.recv(65536):
                received += chunk
        [(status, _, body)] = answers(received)
        assert (status, body[:14]) == (200, b"<body>home<scr")
    finally:
        preview.close()


def test_a_link_that_loops_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    served = Served(tmp_path.resolve(), "/")
    assert locate("/loop", served) == Missing()
    assert locate("/loop/index.html", served) == Missing()


def test_a_draft_is_previewed_and_every_build_says_so(site: Path) -> None:
    (site / "articles/bozza.md").write_text(
        "---\ntitle: Una bozza da rileggere\ndraft: true\n---\nRoma – Il testo della bozza.\n",
        encoding="utf-8",
    )
    server = Server(site)
    try:
        note = "Note: drafts are included (--drafts): do not publish this build\n"
        assert server.wait_for_stderr(note).startswith(note + "Built ")
        assert server.get(BASE + "articles/una-bozza-da-rileggere/")[0] == 200

        save(site / NEW_SEED, NEW_TEXT.replace("testo originale", "testo rivisto"))

        err = server.wait_for_stderr("Rebuilt: ")
        assert err.count(note) == 2
    finally:
        code, err = server.stop()
    assert code == 0 and "Traceback" not in err


def test_quiet_prints_nothing_for_a_rebuild_that_has_no_problem(site: Path) -> None:
    server = Server(site, "--quiet")
    try:
        save(site / NEW_SEED, NEW_TEXT.replace("testo originale", "testo silenzioso"))
        poll_until(server, NEW_URL, b"testo silenzioso")
    finally:
        code, err = server.stop()
    assert (code, err) == (0, "Stopped.\n")


def test_a_templates_folder_deleted_while_serving_falls_back_to_the_theme(site: Path) -> None:
    footer = site / "templates/partials/footer.html"
    footer.parent.mkdir(parents=True)
    footer.write_text('<footer class="colophon"><p>Piede del sito</p></footer>\n')
    server = Server(site)
    try:
        assert b"Piede del sito" in server.get(NEW_URL)[2]
        assert b"Piede del sito" in (site / "build/404.html").read_bytes()

        shutil.rmtree(site / "templates")

        deadline = time.monotonic() + RECOVER_DEADLINE_MS / 1000
        while b"Piede del sito" in server.get(NEW_URL)[2] and time.monotonic() < deadline:
            time.sleep(0.05)
        body = server.get(NEW_URL)[2]
        assert b"Piede del sito" not in body and b'<footer class="colophon">' in body

        # And a templates folder made again is watched again.
        footer.parent.mkdir(parents=True)
        footer.write_text('<footer class="colophon"><p>Piede ritrovato</p></footer>\n')
        poll_until(server, NEW_URL, b"Piede ritrovato")
    finally:
        code, err = server.stop()
    assert code == 0 and "Traceback" not in err
