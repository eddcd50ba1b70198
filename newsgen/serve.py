"""`newsgen serve`: build, serve the output as a static host would, rebuild on every change and
reload the open pages whose content changed.

The server answers only from inside the output folder and only under the site's base path;
a folder without `index.html` is a 404, never a listing. Every HTML response gets a small
script (added when served, never written to the output) that listens to the server-sent events
at `/__newsgen/events`: `reload` with the output files a build changed, `problems` when a
change did not build (shown over the page), `ok` once it builds again.
"""

from __future__ import annotations

import html
import ipaddress
import json
import re
import socket
import socketserver
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from newsgen.config import Config
from newsgen.watch import Failed, News, Rebuilder, Rebuilt, Watcher, rebuild_on_changes

RESERVED = "/__newsgen/"
EVENTS = RESERVED + "events"
SCRIPT = RESERVED + "live.js"
KEEP_ALIVE_SECONDS = 15.0
FALLBACK_404 = b"404 Not Found\n"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".pdf": "application/pdf",
}
# What pages load: when one changes, every open page reloads.
ASSETS = frozenset(
    {".css", ".js", ".mjs", ".svg", ".ico", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif"}
    | {".woff", ".woff2"}
)
# Everything else, Pagefind's .pf_meta, .pf_index, .pf_fragment and .pf_filter included.
BINARY = "application/octet-stream"

LIVE_JS = (resources.files("newsgen") / "live.js").read_bytes()


class ListenError(Exception):
    """The address cannot be listened on; the message says why and what to do."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    host: str = "127.0.0.1"
    port: int = 8000
    jobs: int = 1
    strict: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Serving:
    """The server listens: at `url`, from `output`."""

    url: str
    output: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestFailed:
    """An unexpected error while answering one request (the server goes on)."""

    detail: str


Report = Callable[[Serving | Rebuilt | Failed | RequestFailed], None]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    load: Callable[[], Config],
    options: Options,
    report: Report,
    stop: threading.Event | None = None,
) -> None:
    """Build, serve and rebuild until `stop` is set. Ctrl-C raises KeyboardInterrupt to the
    caller, after the server has closed its port and the watchers have stopped."""
    stop = stop or threading.Event()
    config = load()
    hub = Hub(Served.of(config))
    server = PreviewServer((options.host, options.port), hub, report)
    thread = threading.Thread(target=server.serve_forever, args=(0.2,), daemon=True)
    watcher: Watcher | None = None
    try:

        def publish(news: News) -> None:
            moved = isinstance(news, Rebuilt) and Served.of(news.config) != hub.served
            hub.announce(news)
            report(news)
            if moved and isinstance(news, Rebuilt) and not news.first:
                report(Serving(url=server.url(news.config.base_path), output=hub.served.root))

        rebuilder = Rebuilder(
            load, root=config.root, jobs=options.jobs, strict=options.strict, publish=publish
        )
        # Watching starts first: a file saved during the first build builds again.
        watcher = Watcher(config.root, stop)
        watcher.follow(config)
        rebuilder.first(config)
        thread.start()
        report(Serving(url=server.url(config.base_path), output=config.output_dir))
        rebuild_on_changes(watcher, rebuilder, stop)
    finally:
        stop.set()
        hub.close()
        if watcher is not None:
            watcher.close()
        if thread.is_alive():
            server.shutdown()
        server.server_close()


@dataclass(frozen=True, slots=True)
class Served:
    """Where the served files are (resolved) and the URL path they are served under."""

    root: Path
    base_path: str

    @classmethod
    def of(cls, config: Config) -> Served:
        return cls(config.output_dir.resolve(), config.base_path)


class Hub:
    """What the open pages are told: reloads, and the problems of the latest change."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.problems: tuple[str, ...] = ()
        self._events: deque[tuple[int, str]] = deque(maxlen=64)
        self._seq = 0
        self._closed = False
        self._changed = threading.Condition()

    def announce(self, news: News) -> None:
        with self._changed:
            if isinstance(news, Failed):
                self.problems = news.problems
                self._send("problems", {"messages": list(news.problems)})
                return
            self.served = Served.of(news.config)
            if self.problems:
                self.problems = ()
                self._send("ok", {})
            if news.files is None or news.files:
                self._send("reload", {"files": reloads(news.files)})

    def hello(self) -> tuple[int, str]:
        """For a new listener: where the stream is, and the current problems if any."""
        with self._changed:
            problems = self.problems
            start = _event("problems", {"messages": list(problems)}) if problems else ""
            return self._seq, start

    def wait(self, after: int, timeout: float) -> tuple[int, str] | None:
        """The events after number `after` (empty text after `timeout`); None once closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._seq > after, timeout)
            if self._closed:
                return None
            return self._seq, "".join(text for seq, text in self._events if seq > after)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _send(self, name: str, data: dict[str, Any]) -> None:
        with self._changed:
            self._seq += 1
            self._events.append((self._seq, _event(name, data)))
            self._changed.notify_all()


def reloads(files: frozenset[str] | None) -> list[str] | None:
    """The changed files whose open pages reload; None (every page) when a file that pages
    load changed, or the whole output folder."""
    if files is None or any(_is_asset(name) for name in files):
        return None
    return sorted(files)


def _is_asset(name: str) -> bool:
    # Pagefind's own files change with every build and only the search page loads them.
    return Path(name).suffix.lower() in ASSETS and not name.startswith("pagefind/")


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


# --- from URL to file -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    file: Path
    name: str  # relative to the output folder, as the reload events name it


@dataclass(frozen=True, slots=True)
class Moved:
    location: str


@dataclass(frozen=True, slots=True)
class Missing:
    pass


Answer = Found | Moved | Missing
# Encoded separators and NUL are refused outright rather than decoded into a path.
_ENCODED_SEPARATOR = re.compile(r"%(?:2f|5c|00)", re.IGNORECASE)


def locate(target: str, served: Served) -> Answer:
    """The file a request target names, mapped as a static host maps it: `/x/` is
    `x/index.html`, `/x` redirects to `/x/` when that is a folder with an index, nothing is
    read from outside the output folder, and a folder is never listed."""
    parts = urlsplit(target)
    raw, query = parts.path, f"?{parts.query}" if parts.query else ""
    base = served.base_path
    if _ENCODED_SEPARATOR.search(raw):
        return Missing()
    path = unquote(raw)
    if base != "/" and path in ("", "/", base.rstrip("/")):
        return Moved(quote(base, safe="/%") + query)
    if not path.startswith(base) or path.startswith(RESERVED):
        return Missing()
    relative = path[len(base) :]
    if any(s in (".", "..") or "\\" in s or s.startswith(".newsgen-") for s in relative.split("/")):
        return Missing()
    file = _inside(served.root, served.root / relative)
    if file is not None and file.is_dir():
        index = _inside(served.root, file / "index.html")
        if index is None or not index.is_file():
            return Missing()
        if not path.endswith("/"):
            return Moved(raw + "/" + query)
        return Found(index, relative + "index.html")
    if file is None or path.endswith("/") or not file.is_file():
        return Missing()
    return Found(file, relative)


def _inside(root: Path, path: Path) -> Path | None:
    """`path` with links resolved, or None when that lands outside `root`."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return None
    return resolved if resolved.is_relative_to(root) else None


def inject(page: bytes, name: str) -> bytes:
    """The page with the live-reload script before `</body>` (or at the end)."""
    tag = f'<script src="{SCRIPT}" data-file="{html.escape(name)}"></script>\n'.encode()
    at = page.lower().rfind(b"</body>")
    return page[:at] + tag + page[at:] if at >= 0 else page + tag


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix.lower(), BINARY)


# --- the server -----------------------------------------------------------------------------


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], hub: Hub, report: Report) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.hub = hub
        self.report = report
        try:
            super().__init__(address, Handler)
        except OSError as exc:
            raise ListenError(
                f"cannot listen on {address[0]}:{address[1]} ({exc.strerror}); "
                "choose another port with --port, or --port 0 for a free one"
            ) from exc

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for the host's full name, which can stall start-up.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self._host(), int(self.server_address[1])

    def url(self, base_path: str) -> str:
        host = self._host()
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.server_address[1]}{quote(base_path, safe='/%')}"

    def _host(self) -> str:
        host = self.server_address[0]
        return host.decode() if isinstance(host, bytes) else str(host)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the browser went away: nothing to report
        self.report(RequestFailed(detail=traceback.format_exc()))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: PreviewServer

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: only the command line prints, and a preview's request log is noise."""

    def _answer(self, *, head: bool) -> None:
        path = urlsplit(self.path).path
        if path == EVENTS:
            self._stream(head=head)
        elif path == SCRIPT:
            self._send(200, content_type(SCRIPT), LIVE_JS, head=head)
        else:
            answer = locate(self.path, self.server.hub.served)
            if isinstance(answer, Moved):
                self._send(
                    301, "text/plain; charset=utf-8", b"", head=head, location=answer.location
                )
            elif isinstance(answer, Found):
                self._file(answer, head=head)
            else:
                self._missing(head=head)

    def _file(self, found: Found, *, head: bool) -> None:
        try:
            data = found.file.read_bytes()
        except OSError:  # removed by a rebuild since it was located
            self._missing(head=head)
            return
        kind = content_type(found.name)
        page = inject(data, found.name) if kind.startswith("text/html") else data
        self._send(200, kind, page, head=head)

    def _missing(self, *, head: bool) -> None:
        served = self.server.hub.served
        page = _inside(served.root, served.root / "404.html")
        try:
            data = inject(page.read_bytes(), "") if page else FALLBACK_404
        except OSError:
            data = FALLBACK_404
        kind = CONTENT_TYPES[".html"] if data is not FALLBACK_404 else CONTENT_TYPES[".txt"]
        self._send(404, kind, data, head=head)

    def _send(self, status: int, kind: str, data: bytes, *, head: bool, location: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if location:
            self.send_header("Location", location)
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _stream(self, *, head: bool) -> None:
        hub = self.server.hub
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        seq, text = hub.hello()
        self._push("retry: 1000\n\n" + text)
        while (news := hub.wait(seq, KEEP_ALIVE_SECONDS)) is not None:
            seq, text = news
            # A comment line when nothing happened: finds browsers that went away.
            self._push(text or ": keep-alive\n\n")

    def _push(self, text: str) -> None:
        self.wfile.write(text.encode())
        self.wfile.flush()
