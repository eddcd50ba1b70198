"""Site configuration: one typed, frozen `Config`, read from an optional `newsgen.yaml`."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import math
import os
import re
import zoneinfo
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from newsgen.headers import DIRECTIVES

CONFIG_NAME = "newsgen.yaml"


class ConfigError(Exception):
    """Every problem found in the configuration, reported at once."""

    def __init__(self, problems: list[str]) -> None:
        # A key or value can hold half of a UTF-16 pair (a YAML escape): shown as an escape,
        # since it cannot be printed.
        problems = [p.encode("utf-8", "backslashreplace").decode() for p in problems]
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    root: Path
    title: str = "News archive"
    base_url: str = "http://localhost:8000/"
    language: str = "en"
    timezone: str = "UTC"
    per_page: int = 20
    feed_size: int = 50
    search: bool = True
    seeds: str = "seeds"
    articles: str = "articles"
    templates: str = "templates"
    output: str = "build"
    max_file_mb: float = 10
    media: str = "media"
    # Images not in the media store: linked where they are, or left out (captions stay).
    remote_images: str = "link"
    # Hosts `newsgen images fetch` may reach though they resolve to a private address.
    allow_hosts: tuple[str, ...] = ()
    max_image_mb: float = 20
    # Precompressed copies (.gz, and .br when the brotli package is installed) beside the
    # HTML, CSS, JavaScript, XML and JSON files, for hosts that serve them as they are.
    compress: bool = False
    # Headers the site adds to build/_headers, per URL pattern: ((pattern, ((name, value),
    # ...)), ...); sources the site allows per Content-Security-Policy directive.
    headers: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    csp: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def base_path(self) -> str:
        """The URL path the site lives under, with slashes on both ends: `/` or `/archivio/`."""
        return urlsplit(self.base_url).path or "/"

    @property
    def output_dir(self) -> Path:
        return (self.root / self.output).resolve()

    @property
    def max_file_bytes(self) -> int:
        """The size past which a source file is skipped unread."""
        return int(self.max_file_mb * MB)

    def source_dir(self, name: str) -> Path:
        return (self.root / str(getattr(self, name))).resolve()

    def fingerprint(self) -> str:
        """A hash of every setting that can change the output (not the paths; not the
        media store's content, which a build reads once: media.load)."""
        parts = [
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name in _OUTPUT_KEYS
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    def media_state(self) -> str:
        """The media store as a build publishes it (see media_digest)."""
        store = self.source_dir("media")
        try:
            manifest = (store / MEDIA_MANIFEST).read_bytes()
        except OSError:
            manifest = b""
        try:
            names: list[str] | None = os.listdir(store)
        except OSError:
            names = None
        return media_digest(manifest, names)


def media_digest(manifest: bytes, names: list[str] | None) -> str:
    """The media store's state from its manifest's bytes and the names of its files (None:
    it has none): a name is its file's content. No image is read."""
    digest = hashlib.sha256(manifest)
    if names is not None:
        digest.update("\0".join(sorted(n for n in names if not n.startswith("."))).encode())
    return digest.hexdigest()[:16]


MB = 1024 * 1024
# The media store's manifest (see newsgen.media): its bytes are part of the store's state.
MEDIA_MANIFEST = "manifest.tsv"
REMOTE_IMAGES = ("link", "omit")
_PATH_KEYS = ("seeds", "articles", "templates", "output", "media")
_OUTPUT_KEYS = (
    "title",
    "base_url",
    "language",
    "timezone",
    "per_page",
    "feed_size",
    "search",
    "remote_images",
    "compress",
    "headers",
    "csp",
)
# Which files are read at all: the scan applies it, so the output follows it without it being
# in the fingerprint. The fetch settings only decide what reaches the media store, whose
# state is in the fingerprint.
_LIMIT_KEYS = ("max_file_mb", "max_image_mb", "allow_hosts")
_KEYS = _OUTPUT_KEYS + _LIMIT_KEYS + _PATH_KEYS
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_SURROGATE = re.compile("[\ud800-\udfff]")
HALF_PAIR = "holds half of a UTF-16 surrogate pair, not a character; write the character itself"
# `+02:00`, `-0530`, `UTC+2`, `GMT-03:00`: an offset from UTC, which is not a time zone.
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> Config:
    """Read `<root>/newsgen.yaml` (defaults when it is missing), apply `overrides`, validate.

    Raises ConfigError listing every problem, each naming the key and what is expected.
    """
    path = root / CONFIG_NAME
    raw: dict[str, Any] = _read_yaml(path) if path.is_file() else {}
    raw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    problems = [f"{CONFIG_NAME}: {p}" for p in _unknown_keys(raw)]
    values: dict[str, Any] = {}
    for key in _KEYS:
        if key in raw:
            value, problem = _check(key, raw[key])
            if problem:
                problems.append(f"{CONFIG_NAME}: '{key}': {problem}")
            else:
                values[key] = value
    if problems:
        raise ConfigError(problems)
    return replace(Config(root=root.resolve()), **values)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        # Without trailing blank lines, an unclosed bracket is reported on its own line.
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig").rstrip())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{CONFIG_NAME}:{mark.line + 1}" if mark else CONFIG_NAME
        raise ConfigError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{CONFIG_NAME}: cannot be read ({exc}); save it as UTF-8"]) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError([f"{CONFIG_NAME}: expected a mapping of settings (key: value lines)"])
    return {str(k): v for k, v in data.items()}


def _unknown_keys(raw: dict[str, Any]) -> list[str]:
    problems = []
    for key in sorted(set(raw) - set(_KEYS)):
        near = difflib.get_close_matches(key, _KEYS, n=1)
        hint = f"; did you mean '{near[0]}'?" if near else f"; valid settings: {', '.join(_KEYS)}"
        problems.append(f"'{key}' is not a setting{hint}")
    return problems


def _check(key: str, value: Any) -> tuple[Any, str | None]:
    if key == "headers":
        return _check_headers(value)
    if key == "csp":
        return _check_csp(value)
    if key in ("search", "compress"):
        if not isinstance(value, bool):
            return None, f"expected true or false, got {shown(value)}"
        return value, None
    if key in ("per_page", "feed_size"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return None, f"expected a whole number of at least 1, got {shown(value)}"
        return value, None
    if key == "allow_hosts":
        return _check_hosts(value)
    if key in ("max_file_mb", "max_image_mb"):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value <= 0:
            return None, f"expected a number of megabytes above 0 such as 10, got {shown(value)}"
        return value, None
    if not isinstance(value, str) or not value.strip():
        return None, f"expected a non-empty string, got {shown(value)}"
    if _SURROGATE.search(value):
        return None, f"{shown(value)} {HALF_PAIR}"
    value = value.strip()
    if key == "base_url":
        return _check_base_url(value)
    if key == "language":
        if not _LANGUAGE.match(value):
            return None, f"expected a language code such as 'it' or 'en', got {value!r}"
        return value.replace("_", "-"), None
    if key == "timezone":
        return _check_timezone(value)
    if key == "remote_images" and value not in REMOTE_IMAGES:
        return None, f"expected 'link' or 'omit', got {value!r}"
    return value, None


def _check_hosts(value: Any) -> tuple[Any, str | None]:
    expected = f"expected a list of host names such as [images.example.org], got {shown(value)}"
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(h, str) and h.strip() for h in value):
        return None, expected
    hosts = [h.strip().lower() for h in value]
    if any("/" in h or " " in h for h in hosts):
        return None, f"a host is a name or an address, without scheme or path: {hosts!r}"
    return tuple(dict.fromkeys(hosts)), None


# A header name is an HTTP token; a value is printable text on one line.
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_HEADER_VALUE = re.compile(r"^[^\x00-\x1f\x7f]+$")
# A CSP source: a keyword in quotes, a scheme (`data:`), or a host with an optional scheme,
# port and path; never a separator (`;`, `,`) that would start another directive or policy.
_CSP_SOURCE = re.compile(
    r"^(?:'[A-Za-z0-9+/=_-]+'|[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*://)?[^\s;,'\"]+)$"
)


def _check_headers(value: Any) -> tuple[Any, str | None]:
    """`headers:` — a mapping of URL patterns (paths from the site's root, `*` for any
    characters, `:name` for one segment) to mappings of header names to values."""
    if not isinstance(value, dict):
        return None, (
            "expected a mapping of URL patterns to headers, such as "
            f"{{'/*': {{'X-Robots-Tag': 'noindex'}}}}, got {shown(value)}"
        )
    rules = []
    for pattern, values in value.items():
        if not isinstance(pattern, str) or not pattern.startswith("/") or _blank(pattern):
            return (
                None,
                f"a URL pattern is a path from the site's root such as '/*', got {shown(pattern)}",
            )
        if not isinstance(values, dict) or not values:
            return (
                None,
                f"'{pattern}': expected a mapping of header names to values, got {shown(values)}",
            )
        pairs = []
        for name, text in values.items():
            if not isinstance(name, str) or not _HEADER_NAME.match(name):
                return None, f"'{pattern}': {shown(name)} is not a header name"
            if isinstance(text, bool) or not isinstance(text, str | int | float):
                return None, f"'{pattern}': '{name}': expected a text value, got {shown(text)}"
            if not _HEADER_VALUE.match(str(text).strip()):
                return None, f"'{pattern}': '{name}': expected one line of text, got {shown(text)}"
            pairs.append((name, str(text).strip()))
        rules.append((pattern, tuple(pairs)))
    return tuple(rules), None


def _blank(text: str) -> bool:
    return any(c.isspace() for c in text) or bool(_SURROGATE.search(text))


_SOURCES = "give a host such as 'https://cdn.example.org', a scheme such as 'data:' or a keyword"


def _check_csp(value: Any) -> tuple[Any, str | None]:
    """`csp:` — a mapping of Content-Security-Policy directives to the sources the site
    allows besides its own (a list, or one source)."""
    if not isinstance(value, dict):
        return None, (
            "expected a mapping of directives to sources, such as "
            f"{{'img-src': ['https://images.example.org']}}, got {shown(value)}"
        )
    policy = []
    for name, sources in value.items():
        if name not in DIRECTIVES:
            near = difflib.get_close_matches(str(name), DIRECTIVES, n=1)
            hint = f"did you mean '{near[0]}'?" if near else f"known: {', '.join(DIRECTIVES)}"
            return None, f"{shown(name)} is not a directive newsgen sets; {hint}"
        listed = [sources] if isinstance(sources, str) else sources
        if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
            return None, f"'{name}': expected a list of sources, got {shown(sources)}"
        for source in listed:
            if not _CSP_SOURCE.match(source.strip()):
                return None, f"'{name}': {source!r} is not a source; {_SOURCES}"
        policy.append((name, tuple(dict.fromkeys(s.strip() for s in listed))))
    return tuple(policy), None


def shown(value: Any) -> str:
    """A value as a message shows it: a date or time as YAML writes it, not its repr."""
    if isinstance(value, dt.date):  # a datetime too
        return value.isoformat()
    return repr(value)


def _check_timezone(value: str) -> tuple[Any, str | None]:
    offset = _OFFSET.match(value)
    if offset:
        sign, hours, minutes = offset[1], int(offset[2]), int(offset[3] or 0)
        fixed = f"{sign}{hours:02d}:{minutes:02d}"
        # The Etc zones count the other way round: Etc/GMT-2 is two hours ahead of UTC.
        etc = f" (or 'Etc/GMT{'-' if sign == '+' else '+'}{hours}' for a fixed {fixed})"
        hint = etc if minutes == 0 and 0 < hours <= 12 else ""
        return None, (
            f"{value!r} is an offset from UTC ({fixed}), not a time zone; use an IANA name "
            f"such as 'Europe/Rome'{hint}"
        )
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None, f"unknown time zone {value!r}; use an IANA name such as 'Europe/Rome'"
    return value, None


def _check_base_url(value: str) -> tuple[Any, str | None]:
    expected = f"expected an absolute http(s) URL such as 'https://example.org/', got {value!r}"
    try:
        parts = urlsplit(value)
    except ValueError:  # a `[` in the host that opens no IPv6 address
        return None, expected
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None, expected
    if parts.query or parts.fragment:
        return None, f"a base URL cannot have a query or fragment, got {value!r}"
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return f"{parts.scheme}://{parts.netloc}{path}", None


def site_relative(path: Path, root: Path) -> str:
    """`path` as a site's messages name it: relative to the site's folder, with forward
    slashes (as given, when it lies outside)."""
    try:
        return path.absolute().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
