"""`newsgen check`: verify a built site without a network.

Every HTML page is parsed (the stdlib's `html.parser`, so the checker needs nothing that a
build does not) for balanced elements, one title and unique ids; every internal link, asset and
`#fragment` must resolve to a file of the output folder under the site's base path; feeds must
be well-formed Atom with the elements RFC 4287 requires; the sitemap must be a sitemaps.org
document listing only pages that exist; and every page must be reachable by links from the
front page. With `external=True`, links to other sites are fetched too, a few at a time, each
with a timeout. Returns problems; never prints.
"""

from __future__ import annotations

import functools
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from newsgen.parallel import run
from newsgen.result import is_loopback

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SITEMAP_LIMIT = 50_000
EXTERNAL_WORKERS = 8
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr"}
)
# Elements whose end tag HTML lets an author leave out: the parser closes them implicitly.
OPTIONAL_END = frozenset(
    {"html", "head", "body", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th"}
    | {"thead", "tbody", "tfoot", "colgroup", "rt", "rp", "caption"}
)
LINK_ATTRIBUTES = {
    "a": "href",
    "area": "href",
    "link": "href",
    "img": "src",
    "script": "src",
    "source": "src",
    "iframe": "src",
    "video": "src",
    "audio": "src",
    "form": "action",
}
URL_METAS = frozenset({"og:url", "og:image", "twitter:image"})
# An absolute URL's scheme and host, also with JSON's escaped slashes (`https:\/\/`).
_ABSOLUTE = re.compile(r"https?:\\?/\\?/(\[[^\]/\s]*\]|[^/\\\s\"'<>?#:]*)", re.IGNORECASE)
# Files a published page or reader reads as text, where an absolute URL can hide.
# Where such a URL ends: also at an escaped quote or bracket, as in a feed's escaped HTML.
_URL_END = re.compile(r"[\s\"'<>]|&(?:#34|#39|#x27|quot|apos|gt|lt);")
TEXT_SUFFIXES = (".html", ".xml", ".xsl", ".txt", ".json", ".css", ".js", ".svg", ".webmanifest")
TEXT_NAMES = frozenset({"_redirects", "_headers"})
LOOPBACK_SHOWN = 5
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    url: str
    line: int
    navigates: bool = True  # a link a reader follows (not an image or a stylesheet)
    image: bool = False  # a picture of the page (img src, srcset)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scan:
    """What one file says about itself and what it points to."""

    path: str
    problems: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    ids: frozenset[str] = frozenset()
    redirect: bool = False
    html: bool = False
    # (line, URL) of every absolute URL to a loopback host in the file.
    loopback: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    problems: tuple[str, ...]
    pages: int
    links: int
    external: int = 0
    # `file:line: url` of every image a page still shows from another host.
    remote_images: tuple[str, ...] = ()


@dataclass(slots=True)
class _Site:
    """The output folder as the checker sees it: its files and the base URL."""

    output: Path
    base_url: str
    files: set[str] = field(default_factory=set)

    @property
    def base_path(self) -> str:
        return urlsplit(self.base_url).path or "/"


# --- the story ------------------------------------------------------------------------------


def check_site(
    output: Path,
    base_url: str,
    *,
    external: bool = False,
    timeout: float = 10.0,
    jobs: int = 1,
    fetch: Callable[[str, float], str | None] | None = None,
) -> Report:
    """Every problem of the built site in `output`, as `file: problem` lines."""
    site = _Site(output=output, base_url=base_url if base_url.endswith("/") else base_url + "/")
    site.files = {p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file()}
    names = sorted(f for f in site.files if f.endswith((".html", ".xml")))
    scans = {s.path: s for s in run(_scan_file, [(output, n) for n in names], jobs=jobs)}
    problems = [p for s in scans.values() for p in s.problems]
    texts = sorted(f for f in site.files if _is_text(f) and f not in scans)
    others = [_scan_text(output, name) for name in texts]
    problems += loopback_problems(site.base_url, [*scans.values(), *others])
    edges: dict[str, set[str]] = defaultdict(set)
    outside: dict[str, list[tuple[str, Link]]] = defaultdict(list)
    count = 0
    for scan in scans.values():
        for link in scan.links:
            count += 1
            problem, target = _resolve(site, scans, scan, link, outside)
            if problem:
                problems.append(problem)
            elif target and link.navigates:
                edges[scan.path].add(target)
    problems += _orphans(scans, edges)
    if external:
        problems += check_external(outside, timeout, fetch or fetch_status)
    remote = tuple(
        f"{where}: {url}" for url in sorted(outside) for where, link in outside[url] if link.image
    )
    return Report(
        problems=tuple(problems),
        pages=len(scans),
        links=count,
        external=len(outside),
        remote_images=remote,
    )


# --- one file -------------------------------------------------------------------------------


def _scan_file(args: tuple[Path, str]) -> Scan:
    output, name = args
    data = (output / name).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Scan(path=name, problems=(f"{name}: not UTF-8 (byte {exc.start}); rebuild",))
    scan = scan_html(name, text) if name.endswith(".html") else scan_xml(name, data)
    found = loopback_urls(text)
    return replace(scan, loopback=found) if found else scan


def _is_text(name: str) -> bool:
    return name.endswith(TEXT_SUFFIXES) or name.rsplit("/", 1)[-1] in TEXT_NAMES


def _scan_text(output: Path, name: str) -> Scan:
    """A text file that is neither a page nor a feed: only its absolute URLs are checked."""
    text = (output / name).read_bytes().decode("utf-8", "replace")
    return Scan(path=name, loopback=loopback_urls(text))


def loopback_urls(text: str) -> tuple[tuple[int, str], ...]:
    """(line, URL) of each absolute URL in `text` whose host is this machine's."""
    found = []
    for match in _ABSOLUTE.finditer(text):
        if _loopback_host(match[1].lower()):
            end = _URL_END.search(text, match.end())
            url = text[match.start() : end.start() if end else len(text)]
            found.append((text.count("\n", 0, match.start()) + 1, url.replace("\\/", "/")))
    return tuple(found)


# A site names few hosts, each in thousands of URLs: each is judged once (a name that is no
# address costs is_loopback two exceptions).
_loopback_host = functools.cache(is_loopback)


def loopback_problems(base_url: str, scans: list[Scan]) -> list[str]:
    """Absolute URLs to a loopback host, which lead every reader to their own machine: those
    made from base_url once for each file (past LOOPBACK_SHOWN files, one line counts the
    others); any other (a link in an article) once, where it is first found."""
    made = {_origin(base_url)} | {
        _origin(url) for scan in scans if _generated(scan.path) for _, url in scan.loopback
    }
    built: list[str] = []
    written: dict[str, list[str]] = defaultdict(list)
    for scan in sorted(scans, key=lambda s: (not s.html, s.path)):  # pages before feeds
        for line, url in scan.loopback:
            if _origin(url) not in made:
                written[url].append(f"{scan.path}:{line}")
    for scan in sorted(scans, key=lambda s: (s.html, s.path)):  # feeds and sitemap first
        found = [(line, url) for line, url in scan.loopback if _origin(url) in made]
        if found:
            line, url = found[0]
            more = f" (and {_plural(len(found) - 1, 'other')} in the file)" if found[1:] else ""
            built.append(
                f"{scan.path}:{line}: {url}{more} points to this machine, not to the published "
                "site; set base_url in newsgen.yaml to the site's public address (or build "
                "with --base-url URL), then build again"
            )
    if len(built) > LOOPBACK_SHOWN:
        rest = len(built) - LOOPBACK_SHOWN
        built = [
            *built[:LOOPBACK_SHOWN],
            f"... and {_plural(rest, 'more file')} with URLs to this machine (base_url "
            f"{base_url}); set base_url in newsgen.yaml to the site's public address",
        ]
    return built + [
        f"{wheres[0]}: link {url} points to each reader's own machine (a loopback host)"
        f"{_elsewhere(len(set(w.split(':')[0] for w in wheres)) - 1)}; fix or remove it in "
        "the article's source"
        for url, wheres in sorted(written.items(), key=lambda item: item[1][0])
    ]


def _elsewhere(files: int) -> str:
    return f", also in {_plural(files, 'other file')}" if files else ""


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1]x/": a host that is no host
        return url
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _generated(name: str) -> bool:
    """Files whose every absolute URL the build makes from base_url, none from an article."""
    return name in ("robots.txt", "sitemap.xml") or name.startswith("sitemap")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n:,} {noun}s"


class _PageParser(HTMLParser):
    """Balanced elements, ids, the title and every link of one HTML page."""

    def __init__(self, name: str) -> None:
        super().__init__(convert_charrefs=True)
        self.name = name
        self.stack: list[tuple[str, int]] = []
        self.problems: list[str] = []
        self.links: list[Link] = []
        self.ids: set[str] = set()
        self.doctype = False
        self.titles: list[str] = []
        self.in_title = False
        self.redirect = False

    def problem(self, message: str, line: int | None = None) -> None:
        self.problems.append(f"{self.name}:{line or self.getpos()[0]}: {message}")

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.lower().startswith("doctype html")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self._note(tag, values)
        if tag not in VOID:
            self.stack.append((tag, self.getpos()[0]))
        if tag == "title":
            self.in_title = True
            self.titles.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._note(tag, {k: v or "" for k, v in attrs})
        if tag not in VOID:
            self.problem(f"<{tag}/> is not a void element; HTML leaves it open")
            self.stack.append((tag, self.getpos()[0]))

    def _note(self, tag: str, values: dict[str, str]) -> None:
        line = self.getpos()[0]
        if "id" in values:
            if values["id"] in self.ids:
                self.problem(f"id '{values['id']}' is used twice")
            self.ids.add(values["id"])
        attribute = LINK_ATTRIBUTES.get(tag)
        if attribute and values.get(attribute):
            navigates = tag in ("a", "area") or (
                tag == "link" and values.get("rel", "") in ("prev", "next", "canonical")
            )
            image = tag in ("img", "source")
            link = Link(url=values[attribute], line=line, navigates=navigates, image=image)
            self.links.append(link)
        if tag in ("img", "source") and values.get("srcset"):
            for candidate in values["srcset"].split(","):
                url = candidate.split()[0] if candidate.split() else ""
                if url:
                    self.links.append(Link(url=url, line=line, navigates=False, image=True))
        if tag == "meta":
            kind = values.get("property") or values.get("name") or ""
            if kind in URL_METAS and values.get("content"):
                self.links.append(Link(url=values["content"], line=line, navigates=False))
            self.redirect |= values.get("http-equiv", "").lower() == "refresh"

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.titles[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in VOID:
            return
        open_tags = [t for t, _ in self.stack]
        if tag not in open_tags:
            self.problem(f"</{tag}> closes nothing")
            return
        at = len(open_tags) - 1 - open_tags[::-1].index(tag)
        for inner, line in self.stack[at + 1 :]:
            if inner not in OPTIONAL_END:
                self.problem(f"</{tag}> closes <{inner}> opened on line {line}")
        del self.stack[at:]

    def finish(self) -> None:
        self.close()
        for tag, line in self.stack:
            if tag not in OPTIONAL_END:
                self.problem(f"<{tag}> is never closed", line)
        if not self.doctype:
            self.problem("no <!DOCTYPE html>", 1)
        if len(self.titles) != 1 or not self.titles[0].strip():
            self.problem("a page needs exactly one non-empty <title>", 1)


def scan_html(name: str, text: str) -> Scan:
    parser = _PageParser(name)
    parser.feed(text)
    parser.finish()
    return Scan(
        path=name,
        problems=tuple(parser.problems),
        links=tuple(parser.links),
        ids=frozenset(parser.ids),
        redirect=parser.redirect,
        html=True,
    )


def scan_xml(name: str, data: bytes) -> Scan:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        return Scan(path=name, problems=(f"{name}:{exc.position[0]}: not well-formed XML ({exc})",))
    if root.tag == f"{ATOM}feed":
        problems, links = _check_feed(name, root)
    elif root.tag in (f"{SITEMAP}urlset", f"{SITEMAP}sitemapindex"):
        problems, links = _check_sitemap(name, root)
    elif "sitemap" in name.rsplit("/", 1)[-1]:
        problems = [
            f"{name}: not a sitemap: the root must be <urlset> or <sitemapindex> in "
            f"the namespace {SITEMAP[1:-1]}"
        ]
        links = []
    else:
        problems, links = [], []
    return Scan(path=name, problems=tuple(problems), links=tuple(links))


def _check_feed(name: str, root: ET.Element) -> tuple[list[str], list[Link]]:
    """RFC 4287: a feed and each entry need an id, a title and an RFC 3339 `updated`; a feed
    without an author needs one in every entry."""
    problems = [f"{name}: feed {p}" for p in _atom_fields(root)]
    entries = root.findall(f"{ATOM}entry")
    for number, entry in enumerate(entries, start=1):
        problems += [f"{name}: entry {number} {p}" for p in _atom_fields(entry)]
        if root.find(f"{ATOM}author") is None and entry.find(f"{ATOM}author") is None:
            problems.append(f"{name}: entry {number} has no <author>, nor has the feed")
    links = [
        Link(url=link.get("href", ""), line=1, navigates=False)
        for link in root.iter(f"{ATOM}link")
        if link.get("href")
    ]
    return problems, links


def _atom_fields(element: ET.Element) -> Iterator[str]:
    for child in ("id", "title", "updated"):
        found = element.find(f"{ATOM}{child}")
        if found is None or not (found.text or "").strip():
            yield f"has no <{child}>"
        elif child == "updated" and not _RFC3339.match(found.text or ""):
            yield f"<updated> '{found.text}' is not an RFC 3339 time"


def _check_sitemap(name: str, root: ET.Element) -> tuple[list[str], list[Link]]:
    locs = [loc.text or "" for loc in root.iter(f"{SITEMAP}loc")]
    problems = []
    if len(locs) > SITEMAP_LIMIT:
        problems.append(f"{name}: {len(locs):,} URLs; a sitemap may list {SITEMAP_LIMIT:,}")
    if any(not loc.strip() for loc in locs) or not locs:
        problems.append(f"{name}: every <url> needs a <loc>, and a sitemap at least one")
    return problems, [Link(url=loc.strip(), line=1, navigates=False) for loc in locs if loc]


# --- links ----------------------------------------------------------------------------------


def page_url(name: str) -> str:
    """`articles/x/index.html` → `articles/x/` (relative to the base URL)."""
    return name[: -len("index.html")] if name.endswith("index.html") else name


def _resolve(
    site: _Site,
    scans: dict[str, Scan],
    scan: Scan,
    link: Link,
    outside: dict[str, list[tuple[str, Link]]],
) -> tuple[str | None, str | None]:
    """(problem, target file) for one link; external links are set aside in `outside`."""
    where = f"{scan.path}:{link.line}" if scan.html else scan.path
    try:
        page = site.base_url + page_url(scan.path)
        absolute, fragment = urldefrag(urljoin(page, link.url.strip()))
        parts = urlsplit(absolute)
    except ValueError:  # "https://[x/": a `[` in the host that opens no IPv6 address
        return f"{where}: link {link.url} has a host that is no host; fix or remove it", None
    base = urlsplit(site.base_url)
    if parts.scheme not in ("http", "https"):
        return None, None
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        outside[absolute].append((where, link))
        return None, None
    path = unquote(parts.path)
    if not path.startswith(site.base_path):
        return f"{where}: link {link.url} is outside the site's path {site.base_path}", None
    target = _target_file(site, path[len(site.base_path) :])
    if target is None:
        return f"{where}: link {link.url} leads nowhere (no such file in the output)", None
    if fragment and scans.get(target, Scan(path=target)).html and fragment not in scans[target].ids:
        return f"{where}: link {link.url}: no id '{fragment}' on {target}", target
    return None, target


def _target_file(site: _Site, relative: str) -> str | None:
    if relative in site.files:
        return relative
    index = f"{relative.rstrip('/')}/index.html".lstrip("/")
    return index if index in site.files else None


def _orphans(scans: dict[str, Scan], edges: dict[str, set[str]]) -> list[str]:
    """HTML pages that no chain of links from the front page reaches (the 404 page and
    redirects excepted: nothing should link to them)."""
    start = "index.html"
    if start not in scans:
        return [f"{start}: the site has no front page"]
    seen = {start}
    queue = deque([start])
    while queue:
        for target in edges.get(queue.popleft(), ()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return [
        f"{name}: orphaned: no page reachable from the front page links to it"
        for name, scan in sorted(scans.items())
        if scan.html and name not in seen and name != "404.html" and not scan.redirect
    ]


# --- outside links --------------------------------------------------------------------------


def check_external(
    outside: dict[str, list[tuple[str, Link]]],
    timeout: float,
    fetch: Callable[[str, float], str | None],
) -> list[str]:
    """Fetch each outside URL once, `EXTERNAL_WORKERS` at a time; report every use of a
    broken one."""
    urls = sorted(outside)
    with ThreadPoolExecutor(max_workers=EXTERNAL_WORKERS) as pool:
        results = list(pool.map(lambda url: fetch(url, timeout), urls))
    return [
        f"{where}: link {url} is broken ({why})"
        for url, why in zip(urls, results, strict=True)
        if why
        for where, _ in outside[url]
    ]


def fetch_status(url: str, timeout: float) -> str | None:
    """None when the URL answers with a success; else why not. HEAD first, GET when the
    server refuses HEAD."""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": "newsgen"})
        try:
            with urllib.request.urlopen(request, timeout=timeout):
                return None
        except urllib.error.HTTPError as exc:
            if method == "HEAD" and exc.code in (403, 405, 501):
                continue
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return f"no answer: {reason}"
    return "no answer"
