"""Helpers for the checks that look at a built site as a whole: one page of every kind of the
sample site, every internal link of a page, and a tiny HTTP server that serves an output folder
under a sub-path (as a static host would) on 127.0.0.1."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

SUB_PATH = "/archivio/"

# One page of every kind the sample site has, by the file that holds it (the sample site has
# articles in four languages, so it has a listing per language and their index).
KINDS = {
    "front page": "index.html",
    "front page 2": "page/2/index.html",
    "article (it, undated, lead-in, source images)": (
        "articles/il-governo-federale-del-belgio-ha-annunciato-che-espellera-21-diplomatici-russi/"
        "index.html"
    ),
    "article (fr, dated, tags)": (
        "articles/camfranglais-evoque-au-forum-mondial-de-la-langue-francaise/index.html"
    ),
    "article (de)": (
        "articles/die-bundesregierung-hat-am-mittwoch-ein-neues-gesetz-zum-schutz-von-mooren/"
        "index.html"
    ),
    "archive": "archive/index.html",
    "year": "archive/2012/index.html",
    "month": "archive/2012/07/index.html",
    "undated": "archive/undated/index.html",
    "places": "places/index.html",
    "place": "places/bruxelles/index.html",
    "tags": "tags/index.html",
    "tag": "tags/covid-19/index.html",
    "languages": "languages/index.html",
    "language": "languages/fr/index.html",
    "not found": "404.html",
}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("href", "src") and v]


def links_of(html: str) -> list[str]:
    """Every href and src of a page, as written."""
    parser = _Links()
    parser.feed(html)
    return parser.urls


def broken_links(output: Path, prefix: str) -> tuple[int, list[str]]:
    """(internal links checked, links that do not resolve to a file of `output`) over every
    HTML page, for a site whose base URL's path is `prefix`."""
    checked, broken = 0, []
    for page in sorted(output.rglob("*.html")):
        for link in links_of(page.read_text(encoding="utf-8")):
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            checked += 1
            if not _resolves(output, prefix, parts.path):
                broken.append(f"{page.relative_to(output)}: {link}")
    return checked, broken


def _resolves(output: Path, prefix: str, path: str) -> bool:
    if not path.startswith(prefix):
        return False
    target = output / unquote(path[len(prefix) :])
    if target.is_dir():
        target = target / "index.html"
    return target.resolve().is_relative_to(output.resolve()) and target.is_file()


class _SubPathHandler(SimpleHTTPRequestHandler):
    """Serves `directory` under `prefix` only: any other path is a 404, as on a host where the
    site is one folder among others."""

    prefix = SUB_PATH

    def translate_path(self, path: str) -> str:
        inside = urlsplit(path).path
        if not inside.startswith(self.prefix):
            return str(Path(self.directory) / "\0missing")
        return super().translate_path("/" + inside[len(self.prefix) :])

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on responses, not on the log."""


@contextmanager
def serve(output: Path, prefix: str = SUB_PATH) -> Iterator[str]:
    """Serve `output` at http://127.0.0.1:<ephemeral port><prefix>; yields that URL."""
    handler = type("Handler", (_SubPathHandler,), {"prefix": prefix})
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(output))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
