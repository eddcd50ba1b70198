"""YAML front matter of curated articles: `yaml.safe_load` semantics, every key checked,
every problem naming the line and the key."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import reprlib
from collections.abc import Callable
from typing import Any

import yaml

from newsgen.markup import safe_url, strip_controls
from newsgen.records import FrontMatter, Problem

_TAG = re.compile(r"tag '([^']+)'")
KEYS = (
    "title",
    "date",
    "slug",
    "lang",
    "dateline",
    "tags",
    "summary",
    "draft",
    "aliases",
    "source",
    "id",
    "image",
    "image_caption",
    "image_credit",
)
# Half of a UTF-16 surrogate pair: valid YAML as an escape ("\\uD800"), but not a character,
# and no file, id or page can hold it.
_HALF_PAIR = re.compile("[\ud800-\udfff]")
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MERGE = "tag:yaml.org,2002:merge"


def parse_front_matter(path: str, text: str) -> tuple[FrontMatter | None, str, int, list[Problem]]:
    """Split `---` front matter from the body and check it.

    Returns (meta or None when the article must be skipped, body, first body line, problems).
    A file without front matter is all body.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return FrontMatter(), text, 1, []
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return (
            None,
            "",
            1,
            [
                Problem(
                    path=path,
                    line=1,
                    level="error",
                    message=(
                        "front matter is not closed; add a line '---' after the last key; skipped"
                    ),
                )
            ],
        )
    body = "\n".join(lines[end + 1 :])
    data, key_lines, found = _load_yaml(path, "\n".join(lines[1:end]))
    if any(p.level == "error" for p in found):
        return None, body, end + 2, found
    meta, problems = check_front_matter(path, data, key_lines)
    return meta, body, end + 2, found + problems


Loaded = tuple[dict[str, Any], dict[str, int], list[Problem]]


def _load_yaml(path: str, source: str) -> Loaded:
    """safe_load, keeping the line of each top-level key (front matter starts on line 2),
    with the problems found on the way (an error means the article is skipped)."""
    try:
        return _parse(_FAST_LOADER, path, source)
    except (yaml.YAMLError, UnicodeEncodeError):  # libyaml takes UTF-8: not half a pair
        pass
    try:  # libyaml words syntax errors its own way: report them as the Python parser does
        return _parse(yaml.SafeLoader, path, source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        message = f"front matter is not valid YAML ({printable(what)}); fix it; skipped"
        return {}, {}, [_error(path, mark.line + 2 if mark else 1, message)]


# libyaml, when PyYAML was built with it: parsing the front matter of 500 curated articles
# took the pure-Python parser half a second of a cold build.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(kind: type[yaml.SafeLoader], path: str, source: str) -> Loaded:
    loader = kind(source)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}, []
        if not isinstance(node, yaml.MappingNode):
            return {}, {}, [_error(path, 2, "front matter must be 'key: value' lines; skipped")]
        return _construct(path, loader, node)
    finally:
        loader.dispose()


def _construct(path: str, loader: yaml.SafeLoader, node: yaml.MappingNode) -> Loaded:
    """Each value on its own, so that a bad one is reported with its key and line."""
    repeated = _repeated_keys(path, node)
    loader.flatten_mapping(node)
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key, line = str(key_node.value), key_node.start_mark.line + 2
        lines[key] = line
        try:
            data[key] = loader.construct_object(value_node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            tag = _TAG.search(exc.problem or "")
            shown = tag[1].replace("tag:yaml.org,2002:", "!!") if tag else value_node.tag
            message = (
                f"'{printable(key)}': the tag {printable(shown)} is not allowed "
                "(plain YAML values only); skipped"
            )
            mark = exc.problem_mark or value_node.start_mark
            return {}, {}, [_error(path, mark.line + 2, message)]
        except ValueError as exc:  # a timestamp YAML accepts but the calendar does not
            return {}, {}, [_error(path, line, _impossible(printable(key), value_node, exc))]
    return data, lines, repeated


def _repeated_keys(path: str, node: yaml.MappingNode) -> list[Problem]:
    """A key given twice: YAML keeps the last value without a word, which hides a mistake.
    (Keys that a `<<:` merge brings in may be overridden: that is what merging is for.)"""
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for key_node, _ in node.value:
        if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
            continue
        key, line = str(key_node.value), key_node.start_mark.line + 2
        if key in first:
            message = (
                f"'{printable(key)}' is given again (first on line {first[key]}); this one is "
                "used; delete the other"
            )
            problems.append(Problem(path=path, line=line, message=message))
        else:
            first[key] = line
    return problems


def _impossible(key: str, node: yaml.Node, exc: ValueError) -> str:
    """A timestamp YAML reads but Python refuses: a day past the month's end, or an offset
    from UTC past a day (shown as written, `+25:00`, not as Python's timedelta)."""
    stamp = yaml.constructor.SafeConstructor.timestamp_regexp.match(str(node.value))
    if stamp and stamp["tz_sign"] and "offset" in str(exc):
        offset = f"{stamp['tz_sign']}{int(stamp['tz_hour']):02d}:{int(stamp['tz_minute'] or 0):02d}"
        why = f"the offset from UTC, {offset}, is not between -23:59 and +23:59"
    else:
        why = str(exc)
    return f"'{key}': impossible value {node.value!r} ({why}); skipped"


def printable(text: str) -> str:
    """`text` as a message can show it: characters a terminal would act on, and halves of
    surrogate pairs (which cannot be printed at all), as escapes."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _error(path: str, line: int, message: str) -> Problem:
    return Problem(path=path, line=line, level="error", message=message)


def check_front_matter(
    path: str, data: dict[str, Any], key_lines: dict[str, int]
) -> tuple[FrontMatter | None, list[Problem]]:
    """Typed FrontMatter from raw YAML values. A bad value is an error (article skipped);
    an unknown key is a warning that suggests the nearest valid one."""
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        line = key_lines.get(key, 1)
        if key not in _CHECKS:
            near = difflib.get_close_matches(key, KEYS, n=1)
            hint = f"did you mean '{near[0]}'?" if near else f"valid keys: {', '.join(KEYS)}"
            message = f"'{printable(key)}' is not a front matter key; {hint}"
            problems.append(Problem(path=path, line=line, message=message))
            continue
        if value is None:
            continue
        if _has_half_pair(value):
            message = (
                f"'{key}': {_show(value)} holds half of a UTF-16 surrogate pair, not a "
                "character; write the character itself; skipped"
            )
            problems.append(_error(path, line, message))
            continue
        checked, expected = _CHECKS[key](value)
        if expected:
            problems.append(
                Problem(
                    path=path,
                    line=line,
                    level="error",
                    message=(f"'{key}': expected {expected}, got {_show(value)}; skipped"),
                )
            )
        else:
            values[key] = checked
    if any(p.level == "error" for p in problems):
        return None, problems
    return FrontMatter(**values), problems


def _has_half_pair(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(isinstance(item, str) and _HALF_PAIR.search(item) for item in items)


# YAML aliases can nest a list a billion items deep ("billion laughs"): show only its start.
def _show(value: Any) -> str:
    if isinstance(value, dt.date):  # a datetime too: as YAML writes it, not its repr
        text = value.isoformat()
    else:
        text = _short_repr(value) if isinstance(value, list | dict) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _short_repr(value: list[Any] | dict[Any, Any]) -> str:
    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxdict = 3, 4, 4
    return short.repr(value)


Check = Callable[[Any], tuple[Any, str | None]]


def _text(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None, "text"
    text = " ".join(strip_controls(str(value)).split())
    return (text, None) if text else (None, "non-empty text")


def _date(value: Any) -> tuple[Any, str | None]:
    expected = "a date such as 2022-03-29 or 2022-03-29T08:30:00+02:00"
    if isinstance(value, dt.datetime | dt.date):
        return value, None
    if isinstance(value, str):
        text = value.strip()
        try:
            day_only = len(text) == 10  # YYYY-MM-DD: a date, as unquoted YAML would give
            return (dt.date if day_only else dt.datetime).fromisoformat(text), None
        except ValueError:
            return None, expected
    return None, expected


def _bool(value: Any) -> tuple[Any, str | None]:
    return (value, None) if isinstance(value, bool) else (None, "true or false")


def _text_list(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return None, "a list of text such as [politics, europe]"
    items = [_text(v)[0] for v in value]
    if any(i is None for i in items):
        return None, "a list of text such as [politics, europe]"
    return tuple(dict.fromkeys(items)), None


def _lang(value: Any) -> tuple[Any, str | None]:
    text, problem = _text(value)
    if problem or not isinstance(text, str):
        return None, "a language code such as 'it' or 'en'"
    code = text.replace("_", "-")
    head = code.split("-")[0]
    ok = head.isascii() and head.isalpha() and 2 <= len(head) <= 3 and len(code) <= 20
    return (code.lower() if ok else None), (None if ok else "a language code such as 'it' or 'en'")


def _id(value: Any) -> tuple[Any, str | None]:
    ok = isinstance(value, str) and _ID.fullmatch(value)
    return (value, None) if ok else (None, "an id of 1 to 64 letters, digits, '-' or '_'")


def _image(value: Any) -> tuple[Any, str | None]:
    expected = "a path in the site such as images/photo.jpg, or an http(s) URL"
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value.strip()):
        return None, expected
    text = value.strip()
    return (text, None) if safe_url(text) and not text.startswith("mailto:") else (None, expected)


_CHECKS: dict[str, Check] = {
    "title": _text,
    "date": _date,
    "slug": _text,
    "lang": _lang,
    "dateline": _text,
    "tags": _text_list,
    "summary": _text,
    "draft": _bool,
    "aliases": _text_list,
    "source": _text,
    "id": _id,
    "image": _image,
    "image_caption": _text,
    "image_credit": _text,
}
