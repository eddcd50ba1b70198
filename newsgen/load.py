"""Stage 1, load: input files become `Draft` records plus `Problem`s.

Pure parsing functions over bytes and text: no Jinja, no output paths, no enrichment. A bad
file yields a Problem and no Draft; it never stops the others.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from newsgen.frontmatter import parse_front_matter
from newsgen.markup import strip_controls
from newsgen.records import Draft, FrontMatter, Image, Problem

TITLE_MAX = 150
# A month name or number, a day and a four-digit year, in the orders newsrooms write them.
_DAY = r"\d{1,2}(?:er|º|°|\.)?"
_MONTH = r"[^\W\d_]{3,12}\.?"
DATE = (
    rf"(?:{_DAY}\s+{_MONTH}\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})"
)
_WEEKDAY = r"(?:[^\W\d_]{3,12},?\s+)?"
_DASH = r"[-–—]"
_DATE_FIRST = re.compile(rf"^{_WEEKDAY}(?P<date>{DATE})\s*[.,]?\s*{_DASH}\s+")
_DATE_LINE = re.compile(rf"^{_WEEKDAY}(?P<date>{DATE})\.?$")
_PLACE_DASH = re.compile(rf"\s+{_DASH}\s+")
_PLACE_DATE = re.compile(rf"^(?P<place>.+?)\s*,\s*(?P<date>{DATE})$")
_PLACE_WORD = re.compile(r"^[^\W\d_][\w'’.\-]*$")
_PLACE_JOINERS = frozenset(
    [
        "a",
        "al",
        "am",
        "an",
        "and",
        "av",
        "d'",
        "da",
        "de",
        "degli",
        "dei",
        "del",
        "della",
        "delle",
        "di",
        "do",
        "dos",
        "du",
        "el",
        "en",
        "et",
        "im",
        "in",
        "la",
        "las",
        "le",
        "les",
        "lo",
        "los",
        "of",
        "on",
        "op",
        "sur",
        "sul",
        "sull'",
        "the",
        "und",
        "upon",
        "van",
        "von",
        "y",
        "zu",
    ]
)
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-+*]|\d{1,9}[.)])(?:\s|$)")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_CREDIT = re.compile(
    r"\s*\[\s*(?:credits?|crédits?|foto|fotos|photos?|photo credit|bild|immagine)\s*:\s*"
    r"(?P<credit>[^\]]*)\]\s*$",
    re.IGNORECASE,
)
_SEED_NAME = re.compile(r"^\d+_(?P<id>[0-9a-f]{16})\.txt$")


# --- decoding -------------------------------------------------------------------------------


def decode(data: bytes, path: str) -> tuple[str | None, list[Problem]]:
    """Bytes to normalised text (no BOM, LF newlines), or None with the reason."""
    if b"\x00" in data:
        return None, [
            Problem(
                path=path, line=1, level="error", message="file is not text (NUL bytes); skipped"
            )
        ]
    problems: list[Problem] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        encoding = _guess_encoding(data)
        text = data.decode(encoding, errors="replace")
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(
                path=path,
                line=line,
                message=(
                    f"not UTF-8; read as {encoding}; re-save the file as UTF-8 "
                    "to be sure of the text"
                ),
            )
        )
    text = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        return None, [Problem(path=path, line=1, level="error", message="file is empty; skipped")]
    return text, problems


def _guess_encoding(data: bytes) -> str:
    """charset-normalizer's guess, except that Western text wins whenever it is plausible:
    on a short French or Italian text the detector's first pick is often cp1250, which turns
    'crème' into 'crčme'."""
    from charset_normalizer import from_bytes

    matches = from_bytes(data[:65536])
    plausible = {name for m in matches for name in (m.encoding, *m.could_be_from_charset)}
    best = matches.best()
    if best is None or plausible & _WESTERN:
        return "cp1252"
    return str(best.encoding)


# Latin-1 and cp1252 agree on letters; cp1252 also has the curly quotes scrapers leave.
_WESTERN = frozenset({"cp1252", "latin_1", "iso8859_1", "iso8859_15", "ascii"})


def text_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def seed_id(name: str, text: str) -> str:
    """`NNN_<16 hex>.txt` names carry the id; any other name gets one from the text."""
    match = _SEED_NAME.match(name)
    return match["id"] if match else text_id(text)


# --- images ---------------------------------------------------------------------------------


def parse_image_line(line: str) -> Image | None:
    """`![caption](url)` alone on a line, with nested brackets in the caption; else None."""
    s = line.strip()
    if not s.startswith("!["):
        return None
    end = _matching(s, 1, "[", "]")
    if end is None or end + 1 >= len(s) or s[end + 1] != "(":
        return None
    close = _matching(s, end + 1, "(", ")")
    if close is None or close != len(s) - 1:
        return None
    target = s[end + 2 : close].strip()
    url = target.split()[0] if target else ""
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1]
    caption, credit = split_credit(s[2:end])
    return Image(url=url, caption=caption, credit=credit)


def _matching(s: str, start: int, open_: str, close: str) -> int | None:
    depth = 0
    i = start
    while i < len(s):
        ch = s[i]
        if ch == "\\":
            i += 2
            continue
        if ch == open_:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def split_credit(caption: str) -> tuple[str, str]:
    """A final `[Credit: …]`, `[foto: …]` or `[Photo: …]` group is the credit, kept apart."""
    match = _CREDIT.search(caption)
    if not match:
        return caption.strip(), ""
    return caption[: match.start()].strip().rstrip(",;").strip(), match["credit"].strip()


def split_related(lines: Sequence[str]) -> tuple[list[str], tuple[Image, ...]]:
    """The run of image-only lines (blank lines between them allowed) ending the file."""
    cut = len(lines)
    images: list[Image] = []
    for i in range(len(lines) - 1, -1, -1):
        if not lines[i].strip():
            continue
        image = parse_image_line(lines[i])
        if image is None:
            break
        images.append(image)
        cut = i
    return list(lines[:cut]), tuple(reversed(images))


# --- blocks ---------------------------------------------------------------------------------


def split_blocks(lines: Sequence[str], first_line: int = 1) -> list[tuple[int, str]]:
    """Lines to Markdown blocks, each with its line number.

    Every line is its own paragraph (scrapers write one paragraph per line); only lines that
    continue a Markdown block (list items, table rows, fenced code, block quotes) stay together.
    """
    blocks: list[tuple[int, str]] = []
    current: list[str] = []
    kind = ""
    start = first_line
    fence = ""
    for number, raw in enumerate(lines, start=first_line):
        line = raw.rstrip()
        if fence:
            current.append(raw.rstrip("\n"))
            if line.strip().startswith(fence):
                fence = ""
            continue
        new_kind = _line_kind(line)
        if current and (new_kind != kind or kind == "para" or not new_kind):
            blocks.append((start, "\n".join(current)))
            current = []
        if not new_kind:
            continue
        if new_kind == "fence":
            fence = _FENCE.match(line)[1]  # type: ignore[index]
        if not current:
            start = number
        kind = new_kind
        current.append(line if new_kind != "para" else line.strip())
    if current:
        blocks.append((start, "\n".join(current)))
    return blocks


def _line_kind(line: str) -> str:
    if not line.strip():
        return ""
    if _FENCE.match(line):
        return "fence"
    if _LIST_ITEM.match(line):
        return "list"
    stripped = line.lstrip()
    if stripped.startswith("|") and stripped.rstrip().endswith("|"):
        return "table"
    if stripped.startswith(">"):
        return "quote"
    if line.startswith(("  ", "\t")) and not stripped.startswith(("!", "#")):
        return "indent"
    return "para"


# --- titles and datelines -------------------------------------------------------------------


def is_title_line(line: str) -> bool:
    """Short, no closing full stop, not a Markdown block: a headline, not a paragraph."""
    s = line.strip()
    if not s or len(s) > TITLE_MAX or _line_kind(line) not in ("para", ""):
        return False
    if parse_image_line(s) or _DATE_LINE.match(s):
        return False
    return not s.endswith((".", ":", ";", ","))


def split_title(lines: list[str]) -> tuple[str | None, list[str], int]:
    """(title, remaining lines, number of lines consumed) for an optional headline line."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None, lines, 0
    line = lines[first].strip()
    heading = _HEADING.match(line)
    if heading:
        return line[heading.end() :].strip().rstrip("#").strip(), lines[first + 1 :], first + 1
    followed_by_blank = first + 1 < len(lines) and not lines[first + 1].strip()
    has_body = any(x.strip() for x in lines[first + 1 :])
    if followed_by_blank and has_body and is_title_line(line):
        return line, lines[first + 1 :], first + 1
    return None, lines, 0


def find_dateline(block: str) -> tuple[str | None, str | None, int]:
    """(place, date text, length of the dateline prefix) at the opening of the first
    paragraph. The text itself stays as written."""
    text = block.lstrip()
    skipped = len(block) - len(text)
    match = _DATE_FIRST.match(text)
    if match:
        place, end = _leading_place(text, match.end())
        return place, match["date"], skipped + end
    dash = _PLACE_DASH.search(text[:90])
    if not dash:
        return None, None, 0
    head = text[: dash.start()].strip()
    date_match = _PLACE_DATE.match(head)
    place, date = (date_match["place"].strip(), date_match["date"]) if date_match else (head, None)
    return (place, date, skipped + dash.end()) if is_place(place) else (None, None, 0)


def _leading_place(text: str, start: int) -> tuple[str | None, int]:
    dash = _PLACE_DASH.search(text, start, start + 60)
    if not dash:
        return None, start
    head = text[start : dash.start()].strip()
    return (head, dash.end()) if is_place(head) else (None, start)


def is_place(text: str) -> bool:
    """A place name: one to six capitalised words (joiners such as 'di', 'de', 'upon' allowed)."""
    words = text.replace("’", "'").split()
    if not 1 <= len(words) <= 6 or len(text) > 50:
        return False
    capitalised = 0
    for word in words:
        if word.lower() in _PLACE_JOINERS or word.lower().rstrip("'") + "'" in _PLACE_JOINERS:
            continue
        if not _PLACE_WORD.match(word) or not word[0].isupper():
            return False
        capitalised += 1
    return capitalised > 0


# --- whole files ----------------------------------------------------------------------------


def parse_seed(path: str, data: bytes) -> tuple[Draft | None, list[Problem]]:
    """A scraped `.txt` file to a Draft: title line, blocks, dateline, related images."""
    text, problems = decode(data, path)
    if text is None:
        return None, problems
    draft = parse_seed_text(path, text)
    if draft is None:
        problems.append(
            Problem(
                path=path,
                line=1,
                level="error",
                message="file holds only images, no article text; skipped",
            )
        )
    return draft, problems


def parse_seed_text(
    path: str, text: str, meta: FrontMatter | None = None, line_offset: int = 0
) -> Draft | None:
    lines = text.split("\n")
    body_lines, related = split_related(lines)
    title, body_lines, consumed = split_title(body_lines)
    date_line, body_lines, consumed = _split_date_line(body_lines, consumed)
    blocks = split_blocks(body_lines, first_line=line_offset + consumed + 1)
    if not blocks:
        return None
    place, date_text, _ = find_dateline(blocks[0][1])
    name = path.rsplit("/", 1)[-1]
    return Draft(
        path=path,
        id=seed_id(name, text),
        title=title,
        dateline=place,
        date_text=date_line or date_text,
        blocks=tuple(b for _, b in blocks),
        related=related,
        meta=meta or FrontMatter(),
        body_line=blocks[0][0],
    )


def _split_date_line(lines: list[str], consumed: int) -> tuple[str | None, list[str], int]:
    """A first line that is only a date ("Friday, January 4, 2019") is the date, not text."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None, lines, consumed
    match = _DATE_LINE.match(lines[first].strip())
    if not match:
        return None, lines, consumed
    return match["date"], lines[first + 1 :], consumed + first + 1


def parse_curated(path: str, data: bytes) -> tuple[Draft | None, list[Problem]]:
    """A Markdown article with YAML front matter to a Draft; the body may be empty when the
    article curates a seed (`source:`)."""
    text, problems = decode(data, path)
    if text is None:
        return None, problems
    meta, body, body_start, fm_problems = parse_front_matter(path, text)
    problems += fm_problems
    if meta is None:
        return None, problems
    lines = body.split("\n")
    blocks = _markdown_blocks(lines, body_start)
    related: tuple[Image, ...] = ()
    if blocks:
        _, related = split_related(lines)
        if related:
            kept, _ = split_related(lines)
            blocks = _markdown_blocks(kept, body_start)
    if not blocks and not meta.source:
        problems.append(
            Problem(
                path=path,
                line=body_start,
                level="error",
                message="article has no text and no 'source:'; skipped",
            )
        )
        return None, problems
    text_for_id = body if body.strip() else path
    place, date_text, _ = find_dateline(blocks[0][1]) if blocks else (None, None, 0)
    return Draft(
        path=path,
        id=text_id(text_for_id),
        title=meta.title,
        dateline=place,
        date_text=date_text,
        blocks=tuple(b for _, b in blocks),
        related=related,
        meta=meta,
        body_line=blocks[0][0] if blocks else body_start,
        curated=True,
    ), problems


def _markdown_blocks(lines: list[str], first_line: int) -> list[tuple[int, str]]:
    """Curated articles are Markdown proper: blank lines separate blocks, lines join."""
    blocks: list[tuple[int, str]] = []
    current: list[str] = []
    start = first_line
    for number, line in enumerate(lines, start=first_line):
        if line.strip():
            if not current:
                start = number
            current.append(line.rstrip())
        elif current:
            blocks.append((start, "\n".join(current)))
            current = []
    if current:
        blocks.append((start, "\n".join(current)))
    return blocks


def pair_curated(
    seed_paths: Iterable[str], curated: Iterable[Draft]
) -> tuple[dict[str, Draft], list[Draft], list[Problem]]:
    """Match curated articles to the seeds they name in `source:`.

    Returns (seed path -> curated draft, curated drafts that stand alone, problems).
    """
    seeds = set(seed_paths)
    by_name: dict[str, list[str]] = {}
    for seed in sorted(seeds):
        by_name.setdefault(seed.rsplit("/", 1)[-1], []).append(seed)
    pairs: dict[str, Draft] = {}
    alone: list[Draft] = []
    problems: list[Problem] = []
    for draft in sorted(curated, key=lambda d: d.path):
        source = draft.meta.source
        key = _source_key(source, seeds, by_name) if source else None
        if source and (key is None or key in pairs):
            why = (
                f"'source: {source}' is already curated by {pairs[key].path}"
                if key
                else f"'source: {source}' names no seed file; use a path such as "
                f"'seeds/{source.rsplit('/', 1)[-1]}'"
            )
            problems.append(
                Problem(
                    path=draft.path,
                    line=1,
                    message=why + ("; built on its own" if draft.blocks else "; skipped"),
                )
            )
            if draft.blocks:
                alone.append(replace(draft, meta=replace(draft.meta, source=None)))
        elif key:
            pairs[key] = draft
        else:
            alone.append(draft)
    return pairs, alone, problems


def _source_key(source: str, seeds: set[str], by_name: dict[str, list[str]]) -> str | None:
    source = source.strip().removeprefix("./")
    for candidate in (source, f"seeds/{source}"):
        if candidate in seeds:
            return candidate
    same_name = by_name.get(source.rsplit("/", 1)[-1], [])
    return same_name[0] if len(same_name) == 1 else None


def merge(seed: Draft, curated: Draft) -> Draft:
    """The seed's derived fields, overridden by whatever the curated file states."""
    meta = curated.meta
    return replace(
        seed,
        path=curated.path,
        title=meta.title or seed.title,
        dateline=meta.dateline or (curated.dateline if curated.blocks else seed.dateline),
        date_text=curated.date_text if curated.blocks else seed.date_text,
        blocks=curated.blocks or seed.blocks,
        related=curated.related or seed.related,
        meta=meta,
        body_line=curated.body_line if curated.blocks else seed.body_line,
        curated=True,
    )
