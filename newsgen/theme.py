"""Where a site's templates and static files come from, and what the templates know of the
site: light enough for a build that renders nothing (no Jinja import)."""

from __future__ import annotations

import datetime as dt
import hashlib
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from newsgen import __version__

THEME = Path(str(resources.files("newsgen") / "theme"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    """What every template may know about the site."""

    title: str
    base_url: str
    base_path: str
    language: str
    build_time: dt.datetime
    search: bool = True  # the site has a search page (and every header a search box)
    # Each asset's URL and the URL it is published at, named by its content (see `assets`).
    assets: tuple[tuple[str, str], ...] = ()


def template_dirs(site_templates: Path) -> list[Path]:
    """The site's own templates win over the packaged theme."""
    dirs = [site_templates] if site_templates.is_dir() else []
    return [*dirs, THEME / "templates"]


def static_dirs(site_templates: Path) -> list[Path]:
    return [d for d in (site_templates / "static", THEME / "static") if d.is_dir()]


def fingerprint(dirs: list[Path]) -> str:
    """A hash of every template and static file: any change re-renders what depends on it."""
    digest = hashlib.sha256(__version__.encode())
    for base in dirs:
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


# --- fingerprinted assets ----------------------------------------------------------------

ASSETS = "assets"  # the static folder whose files are named by their content
# Files whose references to other assets are rewritten to the published names.
_TEXT = frozenset({".css", ".js", ".mjs", ".xsl", ".xml", ".svg", ".json", ".html", ".txt"})
_CSS_COMMENT = re.compile(r"(/\*.*?\*/)", re.DOTALL)
_CSS_URL = re.compile(r"""(url\(\s*['"]?|@import\s+['"])([^'")\s]+)""")


@dataclass(frozen=True, slots=True, kw_only=True)
class Assets:
    """The files of the static folders' `assets/` (the site's over the theme's): `urls`
    maps each asset's URL (`/assets/style.css`) to its published one
    (`/assets/style.1a2b3c4d.css`, named by the first 8 hex digits of the SHA-256 of the
    bytes published), `data` the published URL to those bytes."""

    urls: dict[str, str]
    data: dict[str, bytes]


def assets(found: dict[str, Path]) -> Assets:
    """The assets among a site's static files (`found`, by URL).

    An asset that names another (`url(font.woff2)` in CSS, `assets/style.css` in any text
    asset) names its published file instead, so its own name changes when the other's does;
    a reference back to an asset that is still being named (a cycle) is left as written."""
    sources = {u: p for u, p in found.items() if u.startswith(f"/{ASSETS}/")}
    urls: dict[str, str] = {}
    published: dict[str, bytes] = {}

    def name(url: str, seen: frozenset[str]) -> str:
        if url not in urls:
            path = sources[url]
            data = path.read_bytes()
            if path.suffix.lower() in _TEXT:
                named = {
                    u: name(u, seen | {url})
                    for u in _references(data, sources)
                    if u not in seen and u != url
                }
                data = _rewrite(data, url, named, path.suffix.lower())
            urls[url] = fingerprinted(url, data)
            published[urls[url]] = data
        return urls[url]

    for url in sorted(sources):
        name(url, frozenset())
    return Assets(urls=urls, data=published)


def fingerprinted(url: str, data: bytes) -> str:
    """`/assets/style.css` as `/assets/style.<hash8>.css` (`name.min.js` as
    `name.min.<hash8>.js`, a name without extension as `name.<hash8>`)."""
    digest = hashlib.sha256(data).hexdigest()[:8]
    folder, _, file = url.rpartition("/")
    stem, dot, extension = file.rpartition(".")
    if not stem:  # no extension, or a dot file
        return f"{folder}/{file}.{digest}"
    return f"{folder}/{stem}.{digest}{dot}{extension}"


def _references(data: bytes, sources: dict[str, Path]) -> list[str]:
    text = data.decode("utf-8", "replace")
    return sorted(u for u in sources if posixpath.basename(u) in text)


def _rewrite(data: bytes, url: str, named: dict[str, str], suffix: str) -> bytes:
    """`data` (of the asset at `url`) with the assets of `named` given their published
    names: relative `url()` and `@import` targets in CSS, and `assets/<name>` anywhere."""
    if suffix not in _TEXT or not named:
        return data
    text = data.decode("utf-8", "surrogateescape")
    folder = posixpath.dirname(url)
    inside = {u.removeprefix("/"): v.removeprefix("/") for u, v in named.items()}
    pattern = "|".join(re.escape(u) for u in sorted(inside, key=len, reverse=True))
    # A CSS comment that names an asset is left as written: the file's name (so its
    # pages) must not change when an asset it only mentions does.
    parts = _CSS_COMMENT.split(text) if suffix == ".css" else [text]
    for at in range(0, len(parts), 2):
        if suffix == ".css":
            parts[at] = _CSS_URL.sub(_relative(folder, named), parts[at])
        parts[at] = re.sub(rf"(?<![\w.-])({pattern})(?![\w.-])", lambda m: inside[m[1]], parts[at])
    return "".join(parts).encode("utf-8", "surrogateescape")


def _relative(folder: str, named: dict[str, str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        target = match[2]
        if target.startswith(("/", "data:", "#")) or "://" in target:
            return match[0]
        path, mark, rest = _split(target)
        resolved = posixpath.normpath(posixpath.join(folder, path))
        if resolved not in named:
            return match[0]
        new = posixpath.relpath(named[resolved], folder)
        return match[1] + new + mark + rest

    return replace


def _split(target: str) -> tuple[str, str, str]:
    """A URL reference as path, separator (`?` or `#`, or "") and what follows."""
    at = min((i for i in (target.find("?"), target.find("#")) if i >= 0), default=-1)
    return (target, "", "") if at < 0 else (target[:at], target[at], target[at + 1 :])
