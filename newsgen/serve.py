"""`newsgen serve`: build, serve the output as a static host would, rebuild on every change and
reload the open pages whose content changed.

The server answers only from inside the output folder and only under the site's base path;
a folder without `index.html` is a 404, never a listing. Every HTML response gets a small
script (added when served, never written to the output) that listens to the server-sent events
at `/__newsgen/events`: `reload` with the output files a build changed, `problems` when a
change did not build (shown over the page), `ok` once it builds again.

Each answer from the site carries the headers the build wrote into `_headers` for its path,
as Netlify and Cloudflare Pages send them: the preview runs under the published
Content-Security-Policy. The live-reload script and its event stream are of the page's own
origin, which the policy allows (`script-src 'self'`, `connect-src 'self'`): nothing is
added to it.

What is not a request for a page of the site is refused before it reaches the file system,
with a one-line plain-text answer and one line on the console: a malformed path (400), a path
no file can have (414), a method other than GET and HEAD (405), a body it will not read (413),
and a Host header that is not a name of this preview (400), which keeps out pages of other
sites that point their own name at this machine (DNS rebinding).
"""

from __future__ import annotations

import contextlib
import html
import ipaddress
import json
import re
import socket
import socketserver
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from newsgen import headers
from newsgen.config import Config
from newsgen.guard import (
    MAX_BODY,
    MAX_REQUEST_LINE,
    Hosts,
    Refusal,
    check_target,
    discard_body,
    printable,
)
from newsgen.streams import Streams
from newsgen.watch import Failed, News, Rebuilder, Rebuilt, Watcher, rebuild_on_changes

RESERVED = "/__newsgen/"
EVENTS = RESERVED + "events"
SCRIPT = RESERVED + "live.js"
FALLBACK_404 = b"404 Not Found\n"
ALLOWED_METHODS = ("GET", "HEAD")

IDLE_SECONDS = 60.0  # a connection that sends nothing for this long is closed
LINGER_SECONDS = 2.0  # for a client to close its side, once the server has closed its own
# Each open page holds one event stream, hence one file descriptor: 500 stay well under the
# usual limit of 1,024 per process, with room for the page requests themselves.
MAX_STREAMS = 500
# Connections waiting to be accepted. The default of 5 drops connections when many open pages
# reload at once, and each dropped one is retried only after 1, 3, 7, 15 s...: that, not the
# rebuild, is what made an edit take 46 s to show with 200 pages open.
BACKLOG = 1024
STREAM_HEAD = (
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
    "retry: 1000\n\n"
)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml; charset=utf-8",
    ".xsl": "application/xml; charset=utf-8",  # the feeds' stylesheet: browsers want XML
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused(RequestFailed):
    """A request answered with an error status before it reached the site: expected, so
    `detail` is one line (with its newline) and holds no traceback."""


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

    def __init__(self, served: Served, limit: int = MAX_STREAMS) -> None:
        self.served = served
        self.problems: tuple[str, ...] = ()
        self.streams = Streams(limit)
        self._lock = threading.Lock()
        self.rules = Rules()

    def announce(self, news: News) -> None:
        with self._lock:
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

    def listen(self, stream: socket.socket) -> bool:
        """Answer `stream` (a request for the events) and send it every event from now on,
        the current problems first; False when too many pages listen already."""
        with self._lock:
            problems = {"messages": list(self.problems)}
            start = STREAM_HEAD + (_event("problems", problems) if self.problems else "")
            return self.streams.adopt(stream, start.encode())

    def close(self) -> None:
        self.streams.close()

    def _send(self, name: str, data: dict[str, Any]) -> None:
        self.streams.send(_event(name, data).encode())


class Rules:
    """The rules of the served `_headers`, read again when the file changes."""

    def __init__(self) -> None:
        self._seen: tuple[Path, int, int] | None = None
        self._rules: tuple[headers.Rule, ...] = ()
        self._lock = threading.Lock()

    def for_path(self, root: Path, path: str) -> dict[str, str]:
        """The headers `_headers` in `root` gives `path`; none when it is missing or
        cannot be read (a build that failed before writing it)."""
        file = root / "_headers"
        try:
            stat = file.stat()
            seen = (file, stat.st_mtime_ns, stat.st_size)
            with self._lock:
                if seen != self._seen:
                    self._rules = headers.parse(file.read_text(encoding="utf-8"))
                    self._seen = seen
                rules = self._rules
        except (OSError, UnicodeDecodeError, headers.HeadersError):
            return {}
        return headers.for_path(rules, path)


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
    raw, mark, query = target.partition("?")
    query = mark + query
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
    if file is not None and _is(file, Path.is_dir):
        index = _inside(served.root, file / "index.html")
        if index is None or not _is(index, Path.is_file):
            return Missing()
        if not path.endswith("/"):
            return Moved(raw + "/" + query)
        return Found(index, relative + "index.html")
    if file is None or path.endswith("/") or not _is(file, Path.is_file):
        return Missing()
    return Found(file, relative)


def _is(path: Path, kind: Callable[[Path], bool]) -> bool:
    try:
        return kind(path)
    except (OSError, ValueError):
        return False  # a name too long, a NUL byte: no file of the output has it


def _inside(root: Path, path: Path) -> Path | None:
    """`path` with links resolved, or None when that lands outside `root`."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError):
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
    request_queue_size = BACKLOG

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
        self.hosts = Hosts.of(address[0], int(self.server_address[1]))

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

    def shutdown_request(self, request: Any) -> None:
        if self.hub.streams.owns(request):
            return  # an event stream lives on, in the streams' thread
        with contextlib.suppress(OSError):
            request.shutdown(socket.SHUT_WR)
            _linger(request)
        self.close_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the browser went away: nothing to report
        self.report(RequestFailed(detail=traceback.format_exc()))


def _linger(connection: socket.socket) -> None:
    """Read what the client still sends (a refused body, say) until it closes its side: a
    connection closed with unread data is reset, and the client can lose the answer."""
    connection.settimeout(LINGER_SECONDS)
    left = MAX_BODY
    while left > 0 and (data := connection.recv(min(left, 65536))):
        left -= len(data)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    server: PreviewServer

    def handle_one_request(self) -> None:
        """The standard library's, with a shorter request line and every request checked
        before it is answered."""
        self.command, self.path, self.request_version, self.requestline = "", "", "", ""
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if not self.raw_requestline:
                self.close_connection = True
            elif len(self.raw_requestline) > MAX_REQUEST_LINE:
                limit = f"the request line is longer than {MAX_REQUEST_LINE:,} bytes"
                self._refuse(Refusal(414, limit))
            elif self.parse_request():  # else it answered through send_error
                refusal = self._refusal() or discard_body(self.headers, self.rfile)
                if refusal:
                    self._refuse(refusal)
                else:
                    self._answer(head=self.command == "HEAD")
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's answer to a request it cannot parse, in the form of ours."""
        # Whatever the request says, the answer has a status line (not HTTP/0.9's bare body).
        self.request_version = ""
        self._refuse(Refusal(code, message or HTTPStatus(code).phrase))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: only the command line prints, and a preview's request log is noise."""

    def _refusal(self) -> Refusal | None:
        if self.command not in ALLOWED_METHODS:
            return Refusal(405, f"{self.command} is not allowed; the preview answers GET and HEAD")
        return check_target(self.path) or self.server.hosts.check(self.headers.get_all("Host", []))

    def _refuse(self, refusal: Refusal) -> None:
        """Answer with a short plain text and close: whatever else the client sent is unread."""
        status = HTTPStatus(refusal.status)
        body = f"{status.value} {status.phrase}: {refusal.reason}\n".encode()
        self.close_connection = True
        self.send_response(status.value)
        self.send_header("Content-Type", CONTENT_TYPES[".txt"])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", ", ".join(ALLOWED_METHODS))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        request = printable(f"{self.command} {self.path}", 100) if self.command else "a request"
        answer = printable(body.decode().rstrip(), 400)
        self.server.report(
            Refused(detail=f"Refused {request} from {self.client_address[0]}: {answer}\n")
        )

    def _answer(self, *, head: bool) -> None:
        path = self.path.partition("?")[0]
        if path == EVENTS:
            self._stream(head=head)
        elif path == SCRIPT:
            self._send(200, content_type(SCRIPT), LIVE_JS, head=head)
        else:
            answer = locate(self.path, self.server.hub.served)
            if isinstance(answer, Moved):
                self._send(
                    301,
                    "text/plain; charset=utf-8",
                    b"",
                    head=head,
                    location=answer.location,
                    site=self._site_headers(),
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
        self._send(200, kind, page, head=head, site=self._site_headers())

    def _missing(self, *, head: bool) -> None:
        served = self.server.hub.served
        page = _inside(served.root, served.root / "404.html")
        try:
            data = inject(page.read_bytes(), "") if page else FALLBACK_404
        except OSError:
            data = FALLBACK_404
        kind = CONTENT_TYPES[".html"] if data is not FALLBACK_404 else CONTENT_TYPES[".txt"]
        self._send(404, kind, data, head=head, site=self._site_headers())

    def _site_headers(self) -> dict[str, str]:
        """The headers `_headers` gives the requested path (see Rules)."""
        path = unquote(self.path.partition("?")[0])
        return self.server.hub.rules.for_path(self.server.hub.served.root, path)

    def _send(
        self,
        status: int,
        kind: str,
        data: bytes,
        *,
        head: bool,
        location: str = "",
        site: dict[str, str] | None = None,
    ) -> None:
        """Answer with `data`; `site` are headers of the site's, which replace the preview's
        own (`Cache-Control: no-store`, `nosniff`) of the same name."""
        sent = {"cache-control": ("Cache-Control", "no-store")}
        sent["x-content-type-options"] = ("X-Content-Type-Options", "nosniff")
        sent.update({name.lower(): (name, value) for name, value in (site or {}).items()})
        sent.pop("content-type", None)
        sent.pop("content-length", None)
        sent.pop("location", None)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in sent.values():
            self.send_header(name, value)
        if location:
            self.send_header("Location", location)
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _stream(self, *, head: bool) -> None:
        self.close_connection = True
        if head:
            self.wfile.write(STREAM_HEAD.partition("\r\n\r\n")[0].encode() + b"\r\n\r\n")
        elif not self.server.hub.listen(self.connection):
            limit = self.server.hub.streams.limit
            busy = f"{limit} open pages listen for reloads already; close some, then reload"
            self._refuse(Refusal(503, busy))
