"""Stable URLs: every article URL the site has published, and redirects from the old ones.

The registry (`urls.yaml` in the site, committed with it) maps each article id to every URL the
article has been published at. When a slug changes, the old URL stays in the registry and
becomes a redirect to the current one; `aliases:` in front matter add more old URLs. A
redirect never replaces a page of the site. Only a real build records URLs: a preview with
drafts must not make a draft's URL permanent.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

import yaml

from newsgen import write
from newsgen.plan import Page, Redirect, article_url, url_to_path
from newsgen.records import Article, Problem

REGISTRY_NAME = "urls.yaml"
REDIRECTS_FILE = "_redirects"
HEADER = (
    "# Every URL at which this site has published an article, by article id. newsgen adds\n"
    "# to it at each build (never with --drafts) and redirects old URLs to the article's\n"
    "# current one. Commit it with the site; delete a URL only to let it stop working.\n"
)
_SEGMENT = re.compile(r"[\w.~!$&'()+,;=@-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A segment is a file or folder name: file systems take 255 bytes, and a page is first written
# beside its final name as `.newsgen-<pid>-<name>.tmp`.
MAX_SEGMENT_BYTES = 200
MAX_PATH_BYTES = 2000
_PAGE_SUFFIXES = (".html", ".htm")
_FOLDER_URL = re.compile(r"(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*/", re.ASCII)  # as slugs make


@dataclass(frozen=True, slots=True, kw_only=True)
class Registry:
    """Published URLs by article id. `writable` is False when the file could not be read:
    then it is left as it is, so that no history is ever lost."""

    urls: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    writable: bool = True


# --- the registry file ----------------------------------------------------------------------


class Remembered(Protocol):
    """Where a registry read before is kept, by the hash of the file's bytes (the build
    cache): parsing 10,000 entries again costs more than the rest of reading a site's
    inputs when one article changed."""

    def recall(self, name: str, key: str) -> object | None: ...

    def remember(self, name: str, key: str, value: object) -> None: ...


def load_registry(
    root: Path, remembered: Remembered | None = None
) -> tuple[Registry, list[Problem]]:
    """`<root>/urls.yaml`, or an empty registry when there is none."""
    path = root / REGISTRY_NAME
    if not path.is_file():
        return Registry(), []
    try:
        raw = path.read_bytes()
        key = hashlib.sha256(raw).hexdigest()
        known = remembered.recall(REGISTRY_NAME, key) if remembered else None
        if isinstance(known, dict):
            return Registry(urls=known), []
        text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
        data = read_registry(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or "syntax error"
        return Registry(writable=False), [
            _registry_problem(f"not valid YAML ({what})", mark.line + 1 if mark else None)
        ]
    except (OSError, UnicodeDecodeError) as exc:
        return Registry(writable=False), [_registry_problem(f"cannot be read ({exc})")]
    registry, problems = parse_registry(data)
    if remembered and not problems:
        remembered.remember(REGISTRY_NAME, key, dict(registry.urls))
    return registry, problems


def _registry_problem(what: str, line: int | None = None) -> Problem:
    return Problem(
        path=REGISTRY_NAME,
        line=line,
        level="error",
        message=(
            f"{what}; fix it or restore it from version control "
            "(until then it is not updated and its old URLs may not redirect)"
        ),
    )


def parse_registry(data: object) -> tuple[Registry, list[Problem]]:
    """The registry from YAML data: `id: [URL, …]` entries. Bad entries are reported and
    ignored, and the registry is then not rewritten."""
    if data is None:
        return Registry(), []
    if not isinstance(data, dict):
        return Registry(writable=False), [
            _registry_problem("expected 'id: [URL, ...]' entries, one per article")
        ]
    urls: dict[str, tuple[str, ...]] = {}
    problems: list[Problem] = []
    for key, value in data.items():
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(_is_site_url(u) for u in items):
            problems.append(
                _registry_problem(f"'{key}': expected a list of URLs such as ['/articles/name/']")
            )
            continue
        urls[str(key)] = tuple(sorted(set(items)))
    return Registry(urls=urls, writable=not problems), problems


def _is_site_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    return bool(_FOLDER_URL.fullmatch(value)) or normalise_alias(value) == (value, None)


def recorded(registry: Registry, articles: Iterable[Article]) -> dict[str, tuple[str, ...]]:
    """The registry plus the current URL of every published (not draft) article."""
    urls = {key: set(values) for key, values in registry.urls.items()}
    for article in articles:
        if not article.draft:
            urls.setdefault(article.id, set()).add(article_url(article.slug))
    return {key: tuple(sorted(values)) for key, values in sorted(urls.items())}


# PyYAML needs about 27 s to read, and as long to write, a registry of 100,000 articles; the
# file newsgen writes is a YAML subset that is read and written line by line in well under a
# second. Anything else (a file edited by hand) is read by the YAML parser.
_PLAIN_URL = re.compile(r"/[A-Za-z0-9/._~-]*", re.ASCII)


def dump_registry(urls: Mapping[str, Sequence[str]]) -> str:
    """The registry file's text, valid YAML: the same URLs always give the same bytes."""
    lines = [HEADER.rstrip("\n")]
    for key, values in sorted(urls.items()):
        lines.append(f"{json.dumps(key, ensure_ascii=False)}:")
        lines += (f"- {_scalar(url)}" for url in sorted(set(values)))
    return "\n".join(lines) + "\n"


def _scalar(url: str) -> str:
    return url if _PLAIN_URL.fullmatch(url) else json.dumps(url, ensure_ascii=False)


def read_registry(text: str) -> object:
    """The data of a registry file: quickly when it has the shape `dump_registry` writes,
    through the YAML parser otherwise."""
    data: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        if line.startswith('"') and line.endswith('":'):
            # json.dumps escapes with backslashes only: without one, the key is as written.
            key = line[1:-2] if "\\" not in line else json.loads(line[:-1])
            current = data.setdefault(key, [])
        elif line.startswith("- ") and current is not None and _PLAIN_URL.fullmatch(line[2:]):
            current.append(line[2:])
        elif line.startswith('- "') and line.endswith('"') and current is not None:
            current.append(json.loads(line[2:]))
        else:
            return yaml.load(text, Loader=_LOADER)
    return data


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def save_registry(root: Path, registry: Registry, articles: Sequence[Article]) -> list[Problem]:
    """Record the published articles' URLs in `<root>/urls.yaml`, writing only when
    something is new."""
    if not registry.writable:
        return []
    articles = [a for a in articles if not a.draft]
    known = registry.urls
    if all(article_url(a.slug) in known.get(a.id, ()) for a in articles):
        return []  # nothing new: the file stays as it is
    urls = recorded(registry, articles)
    path = root / REGISTRY_NAME
    data = dump_registry(urls).encode()
    if write.same_bytes(path, data):
        return []
    try:
        write.write_atomic(path, data)
    except write.OutputError as exc:
        cause = exc.__cause__
        why = cause.strerror if isinstance(cause, OSError) and cause.strerror else exc
        return [
            Problem(
                path=REGISTRY_NAME,
                level="error",
                message=(
                    f"cannot be written ({why}); the URLs of this build are "
                    "not recorded; make the site folder writable and build again"
                ),
            )
        ]
    return []


# --- aliases --------------------------------------------------------------------------------


_NOT_OURS = "is not a path of this site; write it from the site's root, such as '/old/'"


def normalise_alias(alias: str) -> tuple[str | None, str | None]:
    """A site path for an old URL: (`/old/path/` or `/old/page.html`, None), or
    (None, what is wrong). Only paths inside the site: no host, no query, no `..`."""
    text = alias.strip()
    try:
        parts = urlsplit(text)
    except ValueError:  # a `[` in a host that opens no IPv6 address: a host all the same
        return None, _NOT_OURS
    if parts.scheme or parts.netloc or text.startswith("//"):
        return None, _NOT_OURS
    if "?" in text or "#" in text:
        return None, "has a query or a fragment, which a static page cannot answer"
    path = unquote(text)
    segments = path.strip("/").split("/")
    if segments == [""]:
        return "/", None
    if any(s in (".", "..") for s in segments):
        return None, "has a '.' or '..' segment; write the path in full"
    if any(not s for s in segments):
        return None, "has an empty segment ('//')"
    if _CONTROL.search(path):
        return None, "holds a control character (a newline, a tab, %0a…); remove it"
    if any(s.startswith(".") or not _SEGMENT.fullmatch(s) for s in segments):
        return None, "is not a plain path; use letters, digits, '-', '_' and '.' between slashes"
    if max(len(s.encode()) for s in segments) > MAX_SEGMENT_BYTES:
        return None, (
            f"has a segment longer than {MAX_SEGMENT_BYTES} bytes, more than a file name may "
            "hold; shorten it"
        )
    if len(path.encode()) > MAX_PATH_BYTES:
        return None, f"is longer than {MAX_PATH_BYTES} bytes; shorten it"
    folder = path.endswith("/") or not segments[-1].lower().endswith(_PAGE_SUFFIXES)
    return "/" + "/".join(segments) + ("/" if folder else ""), None


# --- redirects ------------------------------------------------------------------------------


def taken_files(pages: Iterable[Page], static_urls: Iterable[str]) -> set[str]:
    """Every file a build writes, relative to the output folder, that no redirect may
    replace."""
    files = {url_to_path(page.url) for page in pages}
    files.update(url.lstrip("/") for url in static_urls)
    files.add(REDIRECTS_FILE)
    return files


def plan_redirects(
    registry: Registry, articles: Sequence[Article], taken: set[str]
) -> tuple[list[Redirect], list[Problem]]:
    """Redirects from every old URL of an article that is built (its page is in `taken`) to
    its current URL: first the registry's, then `aliases:`. Sorted by old URL."""
    built = [a for a in articles if url_to_path(article_url(a.slug)) in taken]
    by_id = {a.id: a for a in built}
    claims = _Claims(taken=set(taken))
    problems: list[Problem] = []
    for key in sorted(set(registry.urls) & set(by_id)):
        for url in registry.urls[key]:
            if url != article_url(by_id[key].slug):
                problems += claims.claim(url, by_id[key], f"old URL {url}")
    for article in built:
        for alias in article.aliases:
            path, wrong = normalise_alias(alias)
            if path is None:
                problems.append(
                    Problem(path=article.path, message=f"alias '{alias}' {wrong}; ignored")
                )
            else:
                problems += claims.claim(path, article, f"alias '{alias}'")
    return [claims.redirects[url] for url in sorted(claims.redirects)], problems


@dataclass(slots=True, kw_only=True)
class _Claims:
    """Old URLs handed out so far; `taken` grows with each redirect file."""

    taken: set[str]
    redirects: dict[str, Redirect] = field(default_factory=dict)

    def claim(self, url: str, article: Article, what: str) -> list[Problem]:
        """Point `url` at `article`, unless a page of the site or another redirect has it."""
        target = article_url(article.slug)
        earlier = self.redirects.get(url)
        if earlier is not None:
            if earlier.target == target:
                return []
            why = f"already redirects to {earlier.target}"
        elif url == target:
            why = "is this article's own URL; remove it"
        elif _collides(url_to_path(url), self.taken):
            why = f"is a page of the site, which a redirect to {target} must not replace"
        else:
            self.redirects[url] = Redirect(
                source=url,
                href=quote(url, safe="/~!$&'()+,;=@-._"),
                target=target,
                title=article.title,
                lang=article.lang,
            )
            self.taken.add(url_to_path(url))
            return []
        return [Problem(path=article.path, message=f"{what} {why}; ignored")]


def _collides(file: str, taken: set[str]) -> bool:
    """The file itself, or a folder on its way, is already a file of the site."""
    parts = file.split("/")
    return file in taken or any("/".join(parts[:i]) in taken for i in range(1, len(parts)))
