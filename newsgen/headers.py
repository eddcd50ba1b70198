"""HTTP headers as data: the `_headers` file that Netlify and Cloudflare Pages read.

The format: a line starting with `/` is a URL pattern; the indented `Name: value` lines under
it are the headers of every path it matches. In a pattern, `*` matches any characters (`/`
included) and `:name` one path segment. `#` starts a comment line. `! Name` (Cloudflare
Pages) removes a header that an earlier rule set.

The two hosts differ when two rules that match one path set the same header: Cloudflare
Pages joins the values with ", ", Netlify keeps the later rule's. `for_path` does what
Cloudflare Pages does; the file newsgen writes never sets one header in two rules that can
match one path, so both hosts read it alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A URL pattern and its headers, in file order; `detach` are the `! Name` lines."""

    pattern: str
    headers: tuple[tuple[str, str], ...] = ()
    detach: tuple[str, ...] = ()


class HeadersError(ValueError):
    """A `_headers` file that cannot be read; the message names the line."""


def parse(text: str) -> tuple[Rule, ...]:
    """The rules of a `_headers` file, in order. A header line before any pattern, or
    without a colon, name or value, is an error naming its line."""
    rules: list[Rule] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not raw[0].isspace() and (line.startswith("/") or line.startswith("https://")):
            rules.append(Rule(pattern=line))
            continue
        if not rules:
            raise HeadersError(f"_headers:{number}: a header before any URL pattern: {line!r}")
        rules[-1] = _with_line(rules[-1], line, number)
    return tuple(rules)


def _with_line(rule: Rule, line: str, number: int) -> Rule:
    if line.startswith("!"):
        name = line[1:].strip()
        if not name:
            raise HeadersError(f"_headers:{number}: '!' names no header")
        return Rule(pattern=rule.pattern, headers=rule.headers, detach=(*rule.detach, name))
    name, colon, value = line.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not name or not value:
        raise HeadersError(f"_headers:{number}: expected 'Name: value', found {line!r}")
    return Rule(pattern=rule.pattern, headers=(*rule.headers, (name, value)), detach=rule.detach)


def for_path(rules: tuple[Rule, ...] | list[Rule], path: str) -> dict[str, str]:
    """The headers a host sends for `path` (a URL path, no query): every matching rule's,
    in order, a header set again joined with ", ", one that a later rule detaches dropped.
    Names keep the spelling of their first rule; matching them ignores case. Rules for an
    absolute URL (`https://host/…`) are for one host only and match no bare path."""
    found: dict[str, tuple[str, str]] = {}  # lower-case name -> (name, value)
    for rule in rules:
        if not matches(rule.pattern, path):
            continue
        for name in rule.detach:
            found.pop(name.lower(), None)
        for name, value in rule.headers:
            key = name.lower()
            if key in found:
                found[key] = (found[key][0], f"{found[key][1]}, {value}")
            else:
                found[key] = (name, value)
    return dict(found.values())


def matches(pattern: str, path: str) -> bool:
    """Whether a `_headers` URL pattern matches a URL path."""
    return _regex(pattern).fullmatch(path) is not None


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    if not pattern.startswith("/"):
        return re.compile(r"(?!)")  # an absolute URL's rule: not for a bare path
    parts = re.split(r"(\*|:[A-Za-z_][A-Za-z0-9_]*)", pattern)
    regex = "".join(
        ".*" if part == "*" else "[^/]+" if part.startswith(":") else re.escape(part)
        for part in parts
    )
    return re.compile(regex)


def render(rules: tuple[Rule, ...] | list[Rule]) -> str:
    """The text of a `_headers` file holding `rules` (what `parse` reads back)."""
    blocks = []
    for rule in rules:
        lines = [rule.pattern, *(f"  ! {name}" for name in rule.detach)]
        lines += [f"  {name}: {value}" for name, value in rule.headers]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


# --- the file a build writes -------------------------------------------------------------

IMMUTABLE = "public, max-age=31536000, immutable"
# Pages, feeds and every file with a fixed name: a browser or CDN may keep a copy but asks
# the host whether it is still current before each use (a cheap 304 with the ETag both hosts
# send), so a new build is seen at once and never mixed with an old page's assets.
REVALIDATE = "public, max-age=0, must-revalidate"
# The site's own files only. Inline script and style are refused (the theme has none; the
# JSON-LD blocks are data, which CSP does not run). Pagefind compiles WebAssembly
# ('wasm-unsafe-eval', which allows no JavaScript eval) and fetches its index (connect-src);
# its worker is a file of the site (worker-src falls back to script-src).
CSP = (
    ("default-src", ("'none'",)),
    ("script-src", ("'self'", "'wasm-unsafe-eval'")),
    ("style-src", ("'self'",)),
    ("img-src", ("'self'", "data:")),
    ("font-src", ("'self'",)),
    ("connect-src", ("'self'",)),
    ("manifest-src", ("'self'",)),
    ("base-uri", ("'self'",)),
    ("form-action", ("'self'",)),
    ("frame-ancestors", ("'none'",)),
)
DIRECTIVES = (*(name for name, _ in CSP), "media-src", "worker-src", "frame-src")
SECURITY = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    (
        "Permissions-Policy",
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()",
    ),
)
# Named by their content: the theme's fingerprinted assets, the media store's variants and
# Pagefind's index files (`pagefind.<lang>_<hash>.pf_meta`, fragment/, index/, filter/).
# Not Pagefind's pagefind.js, pagefind-worker.js, pagefind-entry.json, wasm.<lang>.pagefind
# nor shards.json: their names stay as their content changes.
_IMMUTABLE = (
    "assets/*",
    "media/*",
    "pagefind/:shard/*.pf_meta",
    "pagefind/:shard/fragment/*",
    "pagefind/:shard/index/*",
    "pagefind/:shard/filter/*",
)
# Every other file of the site, by the URL layout (docs/urls.md). No pattern here matches a
# file of _IMMUTABLE (so no path gets Cache-Control twice, which Cloudflare Pages would join
# and Netlify would not). Files outside them (a site's own static files, the redirect pages
# of `aliases:`) get the host's default, which on both hosts is REVALIDATE.
_REVALIDATE = (
    "",
    "page/*",
    "articles/*",
    "archive/*",
    "places/*",
    "tags/*",
    "languages/*",
    "search/*",
    "feed.xml",
    "sitemap*",
    "robots.txt",
    "404.html",
    "_redirects",
    "pagefind/shards.json",
    "pagefind/:shard/*.js",
    "pagefind/:shard/*.json",
    "pagefind/:shard/*.pagefind",
)
HOSTS_NOTE = "# Images of the articles also load from:"


def site_rules(
    base_path: str,
    image_hosts: frozenset[str] | set[str],
    csp: tuple[tuple[str, tuple[str, ...]], ...] = (),
    extra: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (),
) -> list[Rule]:
    """The rules of a site served under `base_path`: its images also loaded from
    `image_hosts` (origins such as `https://images.example.org`), `csp` the sources a
    site adds per directive, `extra` the headers it adds per pattern (a pattern of newsgen's
    gets them in its own rule, replacing a header of the same name)."""
    policy = {name: list(sources) for name, sources in CSP}
    policy["img-src"] += sorted(image_hosts)
    for name, sources in csp:
        known = policy.setdefault(name, [])
        known += [s for s in sources if s not in known]
    value = "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())
    rules = [Rule(pattern="*", headers=(("Content-Security-Policy", value), *SECURITY))]
    rules += [Rule(pattern=p, headers=(("Cache-Control", IMMUTABLE),)) for p in _IMMUTABLE]
    rules += [Rule(pattern=p, headers=(("Cache-Control", REVALIDATE),)) for p in _REVALIDATE]
    rules = _with_extra(rules, extra)
    return [Rule(pattern=base_path + r.pattern, headers=r.headers) for r in rules]


def _with_extra(
    rules: list[Rule], extra: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
) -> list[Rule]:
    by_pattern = {r.pattern: r for r in rules}
    added = []
    for pattern, values in extra:
        relative = pattern.lstrip("/")
        rule = by_pattern.get(relative)
        if rule is None:
            added.append(Rule(pattern=relative, headers=values))
            continue
        names = {name.lower() for name, _ in values}
        kept = tuple((n, v) for n, v in rule.headers if n.lower() not in names)
        by_pattern[relative] = Rule(pattern=relative, headers=(*kept, *values))
    return [by_pattern[r.pattern] for r in rules] + added


def file_text(rules: list[Rule], image_hosts: frozenset[str] | set[str]) -> str:
    """The `_headers` file: the rules, after a comment that records the image hosts (read
    back by `recorded_hosts`: the next build knows them without reading every page)."""
    note = f"{HOSTS_NOTE} {' '.join(sorted(image_hosts))}".rstrip() + "\n"
    head = "# Written by newsgen build: HTTP headers for Netlify and Cloudflare Pages.\n"
    return head + note + "\n" + render(rules)


def recorded_hosts(text: str) -> frozenset[str] | None:
    """The image hosts a `_headers` file of `file_text` records; None when it is not one."""
    for line in text.splitlines()[:4]:
        if line.startswith(HOSTS_NOTE):
            return frozenset(line[len(HOSTS_NOTE) :].split())
    return None


_TAG = re.compile(rb"<(?:img|source)\s[^>]*>")
_ATTRIBUTE = re.compile(rb'\s(?:src|srcset)="([^"]*)"')
_ORIGIN = re.compile(r"^(https?://[^/?#\s]+)", re.IGNORECASE)


def image_hosts(page: bytes) -> set[str]:
    """The origins (scheme and host) an HTML page loads images from, other than its own."""
    if b"<img" not in page and b"<source" not in page:
        return set()
    found = set()
    for tag in _TAG.findall(page):
        for value in _ATTRIBUTE.findall(tag):
            text = value.decode("utf-8", "replace").replace("&amp;", "&")
            for candidate in text.split(","):
                match = _ORIGIN.match(candidate.strip())
                if match:
                    found.add(match[1].lower())
    return found
