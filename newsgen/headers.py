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
