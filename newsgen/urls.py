"""Stable URLs: every article URL the site has published, and redirects from the old ones.

The registry (`urls.yaml` in the site, committed with it) maps each article id to every URL the
article has been published at. When a slug changes, the old URL stays in the registry and
becomes a redirect to the current one; `aliases:` in front matter add more old URLs. A
redirect never replaces a page of the site. Only a real build records URLs in the site: a
preview (`newsgen serve`, `build --drafts`) publishes the URLs and redirects a build would, but
records them in the build cache, so that a page it showed is redirected when its headline
changes, and no draft's or preview's URL becomes permanent.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

import yaml

from newsgen import identity, write
from newsgen.plan import Page, Redirect, article_url, url_to_path
from newsgen.records import Article, Problem

REGISTRY_NAME = "urls.yaml"
# What previews (`newsgen serve`, `build --drafts`) published, kept in the build cache.
PREVIEW = "preview-urls"
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
    """Published URLs by article id; for the ids of articles identified by their file (see
    newsgen.identity), the file and a sketch of its text. `writable` is False when the file
    could not be read: then it is left as it is, so that no history is ever lost."""

    urls: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    writable: bool = True
    files: Mapping[str, str] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)

    def known(self) -> identity.Known:
        return identity.Known(ids=self.urls.keys(), files=self.files, texts=self.texts)


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
        if isinstance(known, Registry):
            return known, []
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
        remembered.remember(REGISTRY_NAME, key, registry)
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
    """The registry from YAML data: `id: [URL, …]` entries, or `id: {file: …, text: …,
    urls: [URL, …]}` for an article identified by its file. Bad entries are reported and
    ignored, and the registry is then not rewritten."""
    if data is None:
        return Registry(), []
    if not isinstance(data, dict):
        return Registry(writable=False), [
            _registry_problem("expected 'id: [URL, ...]' entries, one per article")
        ]
    urls: dict[str, tuple[str, ...]] = {}
    files: dict[str, str] = {}
    texts: dict[str, str] = {}
    problems: list[Problem] = []
    for key, value in data.items():
        entry = _entry(value)
        if entry is None:
            problems.append(
                _registry_problem(f"'{key}': expected a list of URLs such as ['/articles/name/']")
            )
            continue
        urls[str(key)] = entry[0]
        if entry[1]:
            files[str(key)], texts[str(key)] = entry[1], entry[2]
    return Registry(urls=urls, files=files, texts=texts, writable=not problems), problems


def _entry(value: object) -> tuple[tuple[str, ...], str, str] | None:
    """An entry's URLs, file and text sketch ("" for none); None when it is not one."""
    file: object = ""
    text: object = ""
    if isinstance(value, dict):
        if not value.keys() <= {"file", "text", "urls"}:
            return None
        file, text = value.get("file", ""), value.get("text", "")
        value = value.get("urls", [])
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(_is_site_url(u) for u in items):
        return None
    if not isinstance(file, str) or not isinstance(text, str):
        return None
    # Interned: the article pages' URLs are (see article_url), and are the same strings.
    return tuple(sorted(set(map(sys.intern, items)))), file, text


def _is_site_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    return bool(_FOLDER_URL.fullmatch(value)) or normalise_alias(value) == (value, None)


def recorded(registry: Registry, articles: Iterable[Article]) -> dict[str, tuple[str, ...]]:
    """The registry plus the current URL of every published (not draft) article."""
    return dict(updated(registry, articles, {}).urls)


def updated(registry: Registry, articles: Iterable[Article], files: Mapping[str, str]) -> Registry:
    """The registry plus the current URL of every published (not draft) article; and for
    those identified by their file (`files`: the file by article id), the file and the
    sketch of its text, written when the entry changes: a new URL, another file, or none
    recorded yet (so that an edit alone never rewrites the file)."""
    urls = {key: set(values) for key, values in registry.urls.items()}
    known_files, texts = dict(registry.files), dict(registry.texts)
    for article in articles:
        if article.draft:
            continue
        had = urls.setdefault(article.id, set())
        url = article_url(article.slug)
        file = files.get(article.id)
        if file and (url not in had or known_files.get(article.id) != file):
            known_files[article.id], texts[article.id] = file, article.sketch
        had.add(url)
    return replace(
        registry,
        urls={key: tuple(sorted(values)) for key, values in sorted(urls.items())},
        files=known_files,
        texts=texts,
    )


# PyYAML needs about 27 s to read, and as long to write, a registry of 100,000 articles; the
# file newsgen writes is a YAML subset that is read and written line by line in well under a
# second. Anything else (a file edited by hand) is read by the YAML parser.
_PLAIN_URL = re.compile(r"/[A-Za-z0-9/._~-]*", re.ASCII)


def dump_registry(
    urls: Mapping[str, Sequence[str]],
    files: Mapping[str, str] | None = None,
    texts: Mapping[str, str] | None = None,
) -> str:
    """The registry file's text, valid YAML: the same URLs always give the same bytes. An id
    with a file (`files`) is a mapping of its file, its text's sketch and its URLs."""
    files, texts = files or {}, texts or {}
    lines = [HEADER.rstrip("\n")]
    for key, values in sorted(urls.items()):
        lines.append(f"{json.dumps(key, ensure_ascii=False)}:")
        indent = ""
        if key in files:
            lines.append(f"  file: {json.dumps(files[key], ensure_ascii=False)}")
            lines.append(f"  text: {json.dumps(texts.get(key, ''))}")
            lines.append("  urls:")
            indent = "  "
        lines += (f"{indent}- {_scalar(url)}" for url in sorted(set(values)))
    return "\n".join(lines) + "\n"


def _scalar(url: str) -> str:
    return url if _PLAIN_URL.fullmatch(url) else json.dumps(url, ensure_ascii=False)


def read_registry(text: str) -> object:
    """The data of a registry file: quickly when it has the shape `dump_registry` writes,
    through the YAML parser otherwise."""
    data: dict[str, object] = {}
    current: list[str] | None = None
    entry: dict[str, object] = {}
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        if line.startswith('"') and line.endswith('":'):
            # json.dumps escapes with backslashes only: without one, the key is as written.
            key = line[1:-2] if "\\" not in line else json.loads(line[:-1])
            current, entry = [], {}
            data[key] = current
        elif line.startswith("  ") and current is not None:
            if not _entry_line(line[2:], key, current, entry, data):
                return yaml.load(text, Loader=_LOADER)
        elif line.startswith("- ") and current is not None and not entry:
            url = _url_item(line)
            if url is None:
                return yaml.load(text, Loader=_LOADER)
            current.append(url)
        else:
            return yaml.load(text, Loader=_LOADER)
    return data


def _entry_line(
    line: str, key: str, urls: list[str], entry: dict[str, object], data: dict[str, object]
) -> bool:
    """One line of an entry written as a mapping (`file:`, `text:`, `urls:`, a URL); False
    when it is not one that `dump_registry` writes."""
    name, _, value = line.partition(": ")
    if name in ("file", "text") and value.startswith('"') and value.endswith('"'):
        entry[name] = json.loads(value)
        entry["urls"] = urls
        data[key] = entry
        return True
    if line == "urls:" and entry:
        return True
    url = _url_item(line) if entry else None
    if url is not None:
        urls.append(url)
    return url is not None


def _url_item(line: str) -> str | None:
    if line.startswith("- ") and _PLAIN_URL.fullmatch(line[2:]):
        return line[2:]
    if line.startswith('- "') and line.endswith('"'):
        value = json.loads(line[2:])
        return value if isinstance(value, str) else None
    return None


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def news(
    registry: Registry, articles: Sequence[Article], files: Mapping[str, str]
) -> Registry | None:
    """The registry `updated` with this build's articles, or None when it has nothing new
    (checked first without building a new registry: a site of 100,000 articles builds)."""
    unchanged = all(
        article_url(a.slug) in registry.urls.get(a.id, ())
        and (a.id not in files or registry.files.get(a.id) == files[a.id])
        for a in articles
        if not a.draft
    )
    if unchanged:
        return None
    new = updated(registry, articles, files)
    return None if new == registry else new


def save_registry(
    root: Path,
    registry: Registry,
    articles: Sequence[Article],
    files: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Record the published articles' URLs (and the files of those identified by their
    file: `files`, by article id) in `<root>/urls.yaml`, writing only when something is
    new."""
    if not registry.writable:
        return []
    new = news(registry, articles, files or {})
    if new is None:
        return []  # nothing new: the file stays as it is
    path = root / REGISTRY_NAME
    data = dump_registry(new.urls, new.files, new.texts).encode()
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


def previewed(registry: Registry, remembered: Remembered, key: str) -> Registry:
    """The registry a preview works with: what earlier previews recorded since `urls.yaml`
    last changed (`key`, the hash of its bytes), else the file's. A preview publishes what
    a build would, but records it in the build cache, never in the site."""
    kept = remembered.recall(PREVIEW, key)
    return kept if isinstance(kept, Registry) else registry


def keep_preview(
    remembered: Remembered,
    key: str,
    registry: Registry,
    articles: Sequence[Article],
    files: Mapping[str, str],
) -> None:
    """Record what a preview published, as `save_registry` would in the site."""
    new = news(registry, articles, files)
    if new is not None:
        remembered.remember(PREVIEW, key, new)


def forget_previews(remembered: Remembered) -> None:
    """A build published the site: what previews showed before it is theirs no more."""
    remembered.remember(PREVIEW, "", None)


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
    its current URL: first the registry's, then `aliases:`. Sorted by old URL. `taken`
    grows with the redirects' files."""
    built = [a for a in articles if url_to_path(article_url(a.slug)) in taken]
    by_id = {a.id: a for a in built}
    # `taken` itself, not a copy, and no set of either side's ids: at the end of the plan,
    # where a first build's memory peaks, each was as many entries as the site has pages.
    claims = _Claims(taken=taken)
    problems: list[Problem] = []
    for key in sorted(key for key in registry.urls if key in by_id):
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
