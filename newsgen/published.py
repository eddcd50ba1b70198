"""`newsgen check --published URL`: a deployed site, checked over HTTP with the standard
library only.

What is asked of the host, and how each answer is judged:
- every page its `sitemap.xml` lists (a sitemap index is followed): `200`, served as HTML;
- the files of the local build that a page needs to work: the theme's assets (their MIME type
  matters: with `nosniff` a browser refuses a stylesheet not sent as `text/css`), every feed
  (`application/atom+xml`), the search index's scripts and data and a sample of its
  content-addressed files (never a host's HTML fallback page);
- a sample of the old URLs of `_redirects` (from `urls.yaml`): each must land, through HTTP
  redirects or a redirect page, on the article's current URL;
- an unknown URL: `404`, not a page that says "not found" with a `200`;
- the headers `build/_headers` gives each of these paths (helper: `newsgen.headers`).

Requests go `jobs` at a time and at most `rate` a second, each with a timeout. Nothing is
refused for its address: a loopback URL checks `newsgen serve`. Returns problems, never
prints; `progress` is told (done, total) as answers come.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from newsgen import __version__, headers
from newsgen.check import SITEMAP, page_url
from newsgen.result import is_loopback, url_host

USER_AGENT = f"newsgen/{__version__} (check --published)"
MISSING = "newsgen-check-no-such-page/"  # a URL no build makes (slugs have no such words)
FEED = "application/atom+xml"
TYPES = {
    ".html": ("text/html",),
    ".css": ("text/css",),
    ".js": ("text/javascript", "application/javascript", "application/x-javascript"),
    ".json": ("application/json",),
    ".xml": ("application/xml", "text/xml"),
    ".xsl": ("application/xml", "text/xml", "application/xslt+xml", "text/xsl"),
}
REDIRECTS = (301, 302, 303, 307, 308)
ELSEWHERE = "another site, not asked"
MAX_HOPS = 5
MAX_SITEMAPS = 1_000
MAX_BODY = 64 * 1024 * 1024  # a sitemap of 50,000 URLs is a few MB
SHOWN = 5  # problems of one kind named one by one; the others counted
_REFRESH = re.compile(
    rb"""<meta\s[^>]*http-equiv=["']?refresh["']?[^>]*content=["']\s*\d+\s*;\s*url=([^"'>]+)""",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
FIX_FILES = "publish all of build/ (see Publishing in the manual)"
FIX_HEADERS = "have the host send the headers of build/_headers (see Publishing in the manual)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """What a URL answered: `status` 0 when nothing did (`error` says why)."""

    url: str
    status: int = 0
    fields: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    error: str = ""

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.fields if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    @property
    def media_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()


Fetch = Callable[[str, str], Answer]  # (method, URL) -> answer


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    jobs: int = 4
    rate: float = 10.0  # requests a second, at most
    timeout: float = 10.0
    headers: bool = True  # also the headers of build/_headers
    redirects: int = 20  # old URLs tried, at most


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """One URL to ask for, what it is and the site path `_headers` knows it by."""

    url: str
    kind: str  # page, asset, feed, search, missing, redirect
    path: str = ""  # the URL path under the build's base_path (`_headers`' patterns)
    target: str = ""  # for a redirect: the URL it must land on
    method: str = "HEAD"


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedReport:
    problems: tuple[str, ...]
    requests: int
    pages: int
    notes: tuple[str, ...] = ()


@dataclass(slots=True)
class _Problems:
    """Problems as (URL, what is wrong): one message for many URLs is named for the first
    SHOWN, then counted."""

    found: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, url: str, message: str) -> None:
        self.found[message].append(url)

    def lines(self) -> tuple[str, ...]:
        out = []
        for message, urls in self.found.items():
            out += [f"{shown(url)}: {message}" for url in urls[:SHOWN]]
            if len(urls) > SHOWN:
                out.append(f"... and {len(urls) - SHOWN:,} more URLs: {message}")
        return tuple(out)


# --- the story ------------------------------------------------------------------------------


def check_published(
    root: str,
    output: Path,
    base_path: str,
    options: Options = Options(),
    *,
    progress: Callable[[int, int], None] | None = None,
    fetch: Fetch | None = None,
) -> PublishedReport:
    """Check the site published at `root` (an absolute http(s) URL ending in `/`) against
    the local build in `output`, made for `base_path`."""
    pacer = Pacer(options.rate)
    get = fetch or Fetcher(options.timeout, direct=is_loopback(url_host(root)))

    def paced(method: str, url: str) -> Answer:
        pacer.wait()
        return get(method, url)

    problems = _Problems()
    notes: list[str] = []
    if urlsplit(root).path != base_path:
        notes.append(
            f"the build is for the path {base_path}, the URL checked has {urlsplit(root).path}: "
            "its pages link to files that are not there; give the URL with the site's path"
        )
    pages = sitemap_pages(root, paced, problems, notes)
    targets = [
        *(Target(url=url, kind="page", path=urlsplit(url).path) for url in pages),
        *local_targets(root, output, base_path),
        Target(url=root + MISSING, kind="missing", path=base_path + MISSING),
        *redirect_targets(root, output, base_path, options.redirects),
    ]
    rules = _rules(output, options, notes)
    pool = ThreadPoolExecutor(max_workers=max(1, options.jobs))
    try:
        answers = pool.map(lambda t: _ask(t, paced), targets)
        for done, (target, answer) in enumerate(zip(targets, answers, strict=True), start=1):
            judge(target, answer, rules, problems)
            if progress:
                progress(done, len(targets))
    finally:  # Ctrl-C: the requests not sent yet are dropped, not waited for
        pool.shutdown(wait=False, cancel_futures=True)
    return PublishedReport(
        problems=problems.lines(),
        requests=pacer.count,
        pages=len(pages),
        notes=tuple(notes),
    )


def _rules(output: Path, options: Options, notes: list[str]) -> tuple[headers.Rule, ...]:
    if not options.headers:
        return ()
    try:
        return headers.parse((output / "_headers").read_text(encoding="utf-8"))
    except FileNotFoundError:
        notes.append(f"{output / '_headers'} is missing: headers not checked; build again")
    except (OSError, UnicodeDecodeError, headers.HeadersError) as exc:
        notes.append(f"{output / '_headers'} cannot be read ({exc}): headers not checked")
    return ()


def _ask(target: Target, fetch: Fetch) -> Answer:
    if target.kind == "redirect":
        return follow(target.url, fetch)
    answer = fetch(target.method, target.url)
    if target.method == "HEAD" and answer.status in (405, 501):  # a host that refuses HEAD
        return fetch("GET", target.url)
    return answer


# --- what to ask for ------------------------------------------------------------------------


def sitemap_pages(root: str, fetch: Fetch, problems: _Problems, notes: list[str]) -> list[str]:
    """The URLs of every page the published sitemap lists (each sitemap of an index too), at
    `root`'s scheme and host: a site checked elsewhere than at its base_url (its preview,
    a staging host) is asked for the same paths."""
    queue, seen, pages = [root + "sitemap.xml"], set[str](), list[str]()
    origins: set[str] = set()
    while queue and len(seen) < MAX_SITEMAPS:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        answer = fetch("GET", url)
        locs, index = _sitemap_locs(url, answer, problems)
        origins |= {_origin(loc) for loc in locs}
        rebased = [_origin(root) + _path(loc) for loc in locs]
        if index:
            queue += rebased
        else:
            pages += rebased
    here = _origin(root)
    for origin in sorted(origins - {here}):
        if is_loopback(url_host(origin)) and not is_loopback(url_host(root)):
            problems.add(
                root + "sitemap.xml",
                f"lists the pages at {origin}/, this machine's address (the site was built "
                "with base_url on a loopback host); set base_url in newsgen.yaml to the "
                "public address, build and publish again",
            )
        else:
            notes.append(f"the sitemap lists pages at {origin}/; their paths were asked of {here}/")
    return list(dict.fromkeys(pages))


def _sitemap_locs(url: str, answer: Answer, problems: _Problems) -> tuple[list[str], bool]:
    """(the <loc> URLs, whether it is a sitemap index) of one answer."""
    if answer.status != 200:
        problems.add(url, _status(answer, f"the sitemap lists every page; {FIX_FILES}"))
        return [], False
    try:
        root = ET.fromstring(answer.body)
    except ET.ParseError as exc:
        problems.add(url, f"not a sitemap: not well-formed XML ({exc}); {FIX_FILES}")
        return [], False
    index = root.tag == f"{SITEMAP}sitemapindex"
    if not index and root.tag != f"{SITEMAP}urlset":
        problems.add(url, f"not a sitemap: the root is <{root.tag}>; {FIX_FILES}")
    return [(loc.text or "").strip() for loc in root.iter(f"{SITEMAP}loc") if loc.text], index


def local_targets(root: str, output: Path, base_path: str) -> list[Target]:
    """The built files a published page needs: assets, feeds, the search index's scripts and
    data, and one of each kind of its content-addressed files per shard."""
    files = sorted(p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file())
    chosen: list[tuple[str, str]] = []
    shards: set[tuple[str, str]] = set()
    for name in files:
        if name.endswith((".gz", ".br")):  # compressed copies: what a host may send instead
            continue
        if name.startswith("assets/"):
            chosen.append((name, "asset"))
        elif name == "feed.xml" or name.endswith("/feed.xml"):
            chosen.append((name, "feed"))
        elif name in ("robots.txt", "sitemap.xml"):
            chosen.append((name, "asset"))
        elif name.startswith("pagefind/"):
            parts = name.split("/")
            kind = parts[2] if len(parts) > 3 else Path(name).suffix
            if name.endswith((".js", ".json")):
                chosen.append((name, "search"))
            elif (parts[1], kind) not in shards:
                shards.add((parts[1], kind))
                chosen.append((name, "search"))
    return [
        Target(url=root + page_url(name), kind=kind, path=base_path + page_url(name))
        for name, kind in chosen
    ]


def redirect_targets(root: str, output: Path, base_path: str, sample: int) -> list[Target]:
    """Up to `sample` old URLs of build/_redirects (the redirects urls.yaml asks for), spread
    evenly over the list."""
    try:
        text = (output / "_redirects").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    pairs = [line.split()[:2] for line in text.splitlines() if len(line.split()) >= 2]
    pairs = [p for p in pairs if p[0].startswith(base_path)]
    step = max(1, len(pairs) // max(1, sample))
    return [
        Target(
            url=root + old[len(base_path) :],
            kind="redirect",
            path=old,
            target=root + new[len(base_path) :],
            method="GET",
        )
        for old, new in pairs[::step][:sample]
    ]


# --- what each answer must be ---------------------------------------------------------------


def judge(
    target: Target, answer: Answer, rules: tuple[headers.Rule, ...], problems: _Problems
) -> None:
    url = target.url
    if target.kind == "missing":
        if answer.status != 404:
            problems.add(url, _status(answer, "an unknown URL must answer 404 (with 404.html)"))
        return
    if target.kind == "redirect":
        if answer.status != 200 or _path(answer.url) != _path(target.target):
            landed = f"lands on {shown(answer.url)} ({_said(answer)})"
            problems.add(
                url,
                f"an old URL of urls.yaml {landed}, not on {target.target}; publish "
                "build/_redirects, or the redirect pages of build/ (see Publishing)",
            )
        return
    if answer.status in REDIRECTS and target.kind == "page":
        problems.add(
            url,
            f"{_said(answer)}: a page the sitemap lists must answer itself; when the host "
            "moves every page (to https, to another name), set base_url to where it moves "
            "them and build again",
        )
        return
    if answer.status != 200:
        why = "the sitemap lists it" if target.kind == "page" else "the build has it"
        problems.add(url, _status(answer, f"{why}; {FIX_FILES}"))
        return
    for problem in _type_problems(target, answer, atom=bool(rules)):
        problems.add(url, problem)
    if rules:
        for problem in header_problems(headers.for_path(rules, target.path), answer):
            problems.add(url, problem)


def _type_problems(target: Target, answer: Answer, *, atom: bool) -> Iterable[str]:
    """What is wrong with the answer's MIME type. A feed sent as plain XML is one only when
    `atom` (headers are checked): hosts that cannot be told a type (GitHub Pages) send that,
    and feed readers take it."""
    kind = answer.media_type
    named = shown(kind) or "no Content-Type"
    if target.kind == "page":
        expected: tuple[str, ...] = TYPES[".html"]
    elif target.kind == "feed":
        expected = (FEED,) if atom else (FEED, *TYPES[".xml"])
    else:
        expected = TYPES.get(Path(urlsplit(target.url).path).suffix, ())
    if expected and kind not in expected:
        yield (
            f"served as {named}, not {expected[0]}; have the host send that Content-Type "
            "(see Publishing in the manual)"
        )
    elif not expected and kind == "text/html":
        yield f"served as {named}: a page where a file of the build was expected; {FIX_FILES}"


def header_problems(expected: dict[str, str], answer: Answer) -> Iterable[str]:
    """Each header `_headers` gives the path that the answer lacks or sends otherwise. A value
    the host joined with another's (two rules, or the host's own) still counts."""
    for name, value in expected.items():
        sent = answer.header(name)
        if sent is None:
            yield f"no {name} header (build/_headers gives {value!r}); {FIX_HEADERS}"
        elif _squeezed(value) not in _squeezed(sent):
            yield (
                f"{name} is {shown(repr(sent))}, not {value!r} as build/_headers gives; "
                f"{FIX_HEADERS}"
            )


def _squeezed(value: str) -> str:
    return " ".join(value.split()).lower()


def _status(answer: Answer, why: str) -> str:
    return f"{_said(answer)}; {why}"


def _said(answer: Answer) -> str:
    if not answer.status:
        return ELSEWHERE if answer.error == ELSEWHERE else f"no answer ({shown(answer.error)})"
    location = answer.header("Location") if answer.status in REDIRECTS else None
    return f"HTTP {answer.status}" + (f" to {shown(location)}" if location else "")


def shown(text: str) -> str:
    """Text an answer holds, fit for a terminal: control characters escaped."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- HTTP -----------------------------------------------------------------------------------


def follow(url: str, fetch: Fetch) -> Answer:
    """Where `url` leads: HTTP redirects and redirect pages (`<meta http-equiv=refresh>`)
    followed, MAX_HOPS at most; the last answer, its `url` where it was found."""
    origin = _origin(url)
    for _ in range(MAX_HOPS + 1):
        answer = fetch("GET", url)
        if answer.status in REDIRECTS and answer.header("Location"):
            url = urljoin(url, answer.header("Location") or "")
        elif answer.status == 200 and answer.media_type == "text/html":
            refresh = _REFRESH.search(answer.body)
            if not refresh:
                return answer
            url = urljoin(url, refresh[1].decode("utf-8", "replace").strip())
        else:
            return answer
        if _origin(url) != origin:  # only the site is asked: where it leads elsewhere is said
            return Answer(url=url, error=ELSEWHERE)
    return Answer(url=url, error=f"more than {MAX_HOPS} redirects")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is an answer to judge, not to follow


class Fetcher:
    """One request, redirects not followed; `direct` leaves any proxy out (for loopback)."""

    def __init__(self, timeout: float, *, direct: bool = False) -> None:
        handlers: list[urllib.request.BaseHandler] = [_NoRedirects()]
        if direct:
            handlers.append(urllib.request.ProxyHandler({}))
        self.opener = urllib.request.build_opener(*handlers)
        self.timeout = timeout

    def __call__(self, method: str, url: str) -> Answer:
        request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return _answer(url, response.status, response.headers, response.read(MAX_BODY))
        except urllib.error.HTTPError as exc:
            with exc:
                return _answer(url, exc.code, exc.headers, exc.read(MAX_BODY))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return Answer(url=url, error=str(reason) or type(reason).__name__)


def _answer(url: str, status: int, fields: Message, body: bytes) -> Answer:
    return Answer(url=url, status=status, fields=tuple(fields.items()), body=body)


class Pacer:
    """At most `rate` requests a second, whatever the number of threads asking."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = 0.0
        self.count = 0
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next)
            self.next = at + self.interval
            self.count += 1
        if at > now:
            time.sleep(at - now)
