"""Stage 1, load: input files become `Draft` records plus `Problem`s.

Pure parsing functions over bytes and text: no Jinja, no output paths, no enrichment. A bad
file yields a Problem and no Draft; it never stops the others.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from newsgen.frontmatter import parse_front_matter
from newsgen.markup import parse_image_line, strip_controls
from newsgen.records import Draft, FrontMatter, Image, Problem

TITLE_MAX = 150
# A day, a month name and a four-digit year, in the orders newsrooms write them
# ("29 marzo 2022", "29. März 2022", "29 de marzo de 2022", "April 5, 2020", "2022-03-29").
_DAY = r"\d{1,2}(?:er|º|°|\.)?"
_MONTH = r"[^\W\d_]{3,12}\.?"
_OF = r"(?:de\s+|del\s+)?"
DATE = (
    rf"(?:{_DAY}\s+{_OF}{_MONTH}\s+{_OF}\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2})"
)
_DASH = r"[-–—]"
_DATE_ONLY = re.compile(rf"^(?P<date>{DATE})\s*[.,]?$")
_WEEKDAY = re.compile(r"^([^\W\d_]{2,12})\.?,?\s+")
_PLACE_DASH = re.compile(rf"\s+{_DASH}\s+")
_PLACE_DATE = re.compile(rf"^(?P<place>.+?)\s*,\s*(?:[^\W\d_]{{3,12}},?\s+)?(?P<date>{DATE})$")
# A news agency after the place: "Berlin (dpa) – ", "LONDON (Reuters) - ".
_AGENCY = re.compile(r"\s*\([^()]{1,30}\)$")
_PLACE_WORD = re.compile(r"^[^\W\d_][\w'’./\-]*,?$")
WEEKDAY_LANGUAGES = ("it", "en", "fr", "de", "es", "pt", "nl")
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
_ORDINAL = re.compile(r"^\d{1,4}\.\s+\S")
_LATIN_PAGES = frozenset(
    [
        "ascii",
        "latin_1",
        "iso8859_1",
        "cp1250",
        "cp1252",
        "cp1254",
        "cp1257",
        "cp850",
        "cp437",
        "iso8859_2",
        "iso8859_3",
        "iso8859_4",
        "iso8859_9",
        "iso8859_10",
        "iso8859_13",
        "iso8859_14",
        "iso8859_15",
        "iso8859_16",
        "mac_latin2",
        "mac_roman",
        "mac_iceland",
    ]
)
_SURROGATES = re.compile("[\ud800-\udfff]")
_SEED_NAME = re.compile(r"^\d+_(?P<id>[0-9a-f]{16})\.txt$")


# --- decoding -------------------------------------------------------------------------------


def decode(data: bytes, path: str) -> tuple[str | None, list[Problem]]:
    """Bytes to normalised text (no BOM, LF newlines), or None with the reason."""
    wide = _wide_encoding(data)
    if wide is None and b"\x00" in data:
        return None, [_not_text(path)]
    text, problems = _decode_wide(data, wide, path) if wide else _decode_narrow(data, path)
    if "\x00" in text:
        return None, [_not_text(path)]
    text = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        return None, [Problem(path=path, line=1, level="error", message="file is empty; skipped")]
    return text, problems


def _not_text(path: str) -> Problem:
    return Problem(
        path=path, line=1, level="error", message="file is not text (NUL bytes); skipped"
    )


# UTF-32's byte order marks first: UTF-32-LE's starts with UTF-16-LE's.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _wide_encoding(data: bytes) -> str | None:
    """UTF-16 or UTF-32, when the file opens with its byte order mark (as Windows tools
    write "Unicode" text): NUL bytes are then half of the characters, not binary data."""
    return next((name for bom, name in _WIDE_BOMS if data.startswith(bom)), None)


def _decode_wide(data: bytes, encoding: str, path: str) -> tuple[str, list[Problem]]:
    try:
        return data.decode(encoding), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        problem = Problem(
            path=path,
            line=line,
            message=(
                f"not valid {encoding.upper()}; what could not be read shows as \ufffd; "
                "re-save the file as UTF-8"
            ),
        )
        return data.decode(encoding, errors="replace"), [problem]


def _decode_narrow(data: bytes, path: str) -> tuple[str, list[Problem]]:
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        encoding = _guess_encoding(data)
        # Some codecs (UTF-7) can decode to half of a UTF-16 pair, which no file can hold.
        text = _SURROGATES.sub("\ufffd", data.decode(encoding, errors="replace"))
        line = data[: exc.start].count(b"\n") + 1
        problem = Problem(
            path=path,
            line=line,
            message=(
                f"not UTF-8; read as {encoding}; re-save the file as UTF-8 to be sure of the text"
            ),
        )
        return text, [problem]


def _guess_encoding(data: bytes) -> str:
    """charset-normalizer's guess, except that Western text wins whenever it is plausible:
    on a short French or Italian text the detector's first pick is often cp1250, which turns
    'crème' into 'crčme'."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[:65536]).best()
    name = best.encoding if best is not None else "cp1252"
    # The languages we publish are written in cp1252 when not in UTF-8; on short texts the
    # detector picks among the Latin code pages almost at random (cp1250 turns "è" into "č").
    if name in _LATIN_PAGES and _decodes(data, "cp1252"):
        return "cp1252"
    return name


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def text_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def seed_id(name: str, text: str) -> str:
    """`NNN_<16 hex>.txt` names carry the id; any other name gets one from the text."""
    match = _SEED_NAME.match(name)
    return match["id"] if match else text_id(text)


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
        if kind == "list" and new_kind == "indent" and current:
            new_kind = "list"  # an indented line continues the list item above it
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
    """Short, no closing full stop, not a Markdown block: a headline, not a paragraph.

    A headline may end with '?', '!', a closing quote or an ellipsis, and may open with a
    number ("1. FC Köln siegt"), which Markdown alone would read as a list item.
    """
    s = line.strip()
    if not s or len(s) > TITLE_MAX or _line_kind(s) not in ("para", "list"):
        return False
    if _line_kind(s) == "list" and not _ORDINAL.match(s):
        return False
    if parse_image_line(s) or date_only(s):
        return False
    return s.endswith("...") or not s.endswith((".", ":", ";", ","))


def split_title(lines: list[str]) -> tuple[str | None, list[str], int]:
    """(title, remaining lines, number of lines consumed) for an optional headline line:
    the first line, when a blank line follows it and text follows that."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None, lines, 0
    line = lines[first].strip()
    heading = _HEADING.match(line)
    if heading:
        return line[heading.end() :].strip().rstrip("#").strip(), lines[first + 1 :], first + 1
    rest = [x for x in lines[first + 1 :] if x.strip()]
    followed_by_blank = first + 1 < len(lines) and not lines[first + 1].strip()
    starts_list = bool(rest) and _line_kind(rest[0]) == "list"
    if (
        followed_by_blank
        and rest
        and not starts_list
        and is_title_line(line)
        and not _blank_line_layout(lines[first + 1 :])
    ):
        return line, lines[first + 1 :], first + 1
    return None, lines, 0


def _blank_line_layout(lines: Sequence[str]) -> bool:
    """Whether the file separates all its paragraphs by blank lines (two or more follow):
    then the blank line after the first line says nothing, and a short first paragraph is
    a paragraph (a caption, a kicker), not a title line. Only a file that writes its other
    paragraphs one a line sets a title line apart with a blank line."""
    paragraphs = 0
    previous = ""
    for line in lines:
        kind = _line_kind(line)
        if kind == "para" and previous == "para":
            return False
        paragraphs += kind == "para"
        previous = kind
    return paragraphs >= 2


def lede_at(blocks: Sequence[str], dateline_end: int) -> tuple[int, int]:
    """The first block of prose (not an image, heading, table or quote), and where its text
    starts after its dateline; `dateline_end` is where the first block's dateline ends."""
    for index, block in enumerate(blocks):
        if _is_prose(block):
            return index, dateline_end if index == 0 else find_dateline(block)[2]
    return -1, 0


def _is_prose(block: str) -> bool:
    return not block.startswith(("![", "#", "|", ">"))


@dataclass(frozen=True, slots=True)
class Opening:
    """What opens an article: its dateline's place and date, where its news text starts
    (block, offset), and the lead-in before the dateline (block, end; -1: none), a teaser
    sentence or a title-like first paragraph that stays in the body."""

    place: str | None
    date: str | None
    lede: tuple[int, int]
    lead_in: tuple[int, int] = (-1, 0)


def read_opening(blocks: Sequence[str]) -> Opening:
    """The dateline at the opening of the first paragraph; else after a teaser sentence in
    it (`Neue Regeln ab Juli. Graz – Die …`); else at the opening of the second paragraph
    when the first is a title-like line (any dateline) or one sentence (a dated one only,
    which no sentence of news opens with by chance)."""
    place, date, end = find_dateline(blocks[0]) if blocks else (None, None, 0)
    if place or date or not blocks or not _is_prose(blocks[0]):
        return Opening(place, date, lede_at(blocks, end))
    teaser = _teaser_dateline(blocks[0])
    if teaser:
        place, date, start, end = teaser
        return Opening(place, date, (0, end), (0, start))
    if len(blocks) < 2 or not _is_prose(blocks[1]) or "\n" in blocks[0]:
        return Opening(None, None, lede_at(blocks, 0))
    titled = is_title_line(blocks[0])
    place, date, end = find_dateline(blocks[1])
    if titled or (date and _one_sentence(blocks[0])):
        # A title-like first paragraph is a lead-in even without a dateline after it.
        return Opening(place, date, (1, end), (0, len(blocks[0])))
    return Opening(None, None, lede_at(blocks, 0))


_TEASER_END = re.compile(r"[.!?][\"”»’)]*\s+(?=[^\W\d_])")
_TEASER_LENGTH = 200
_TITLE_WORDS = "dr prof st mr mrs ms sig dott ing avv mme sr sra hr fr nr on sen"
_TITLES = frozenset(_TITLE_WORDS.split())


def _teaser_dateline(block: str) -> tuple[str | None, str | None, int, int] | None:
    """(place, date, where the dateline starts, where it ends) after the first sentence."""
    match = _TEASER_END.search(block, 0, _TEASER_LENGTH)
    if not match or len(block[: match.start()].split()) < 3:
        return None
    last = block[: match.start()].rsplit(None, 1)[-1].lower().strip('"“«(')
    if len(last) < 2 or last in _TITLES or not block[match.end()].isupper():
        return None
    place, date, length = find_dateline(block[match.end() :])
    after = block[match.end() + length : match.end() + length + 1]
    if not place or not after.isupper():
        return None
    return place, date, match.end(), match.end() + length


def _one_sentence(block: str) -> bool:
    text = block.strip()
    return (
        len(text) <= _TEASER_LENGTH
        and text.endswith((".", "!", "?"))
        and not (_TEASER_END.search(text))
    )


def find_dateline(block: str) -> tuple[str | None, str | None, int]:
    """(place, date text, length of the dateline prefix) at the opening of a paragraph:
    `Place – `, `PLACE — `, `Place (Agency) - `, `Place, 29 marzo 2022 – `,
    `Place – 3 mars 2014. - `, `3 juillet 2012. - Québec - `, `14 août 2013, Portugal. - `,
    and, closed by a full stop, `Torino, 4 maggio 2011. ` and `14 août 2013, Portugal. `.
    A date is read only in these shapes. The text itself stays as written."""
    text = block.lstrip()
    skipped = len(block) - len(text)
    place, date, end = _dash_dateline(text)
    if not (place or date):
        place, date, end = _stop_dateline(text)
    return (place, date, skipped + end) if place or date else (None, None, 0)


def _dash_dateline(text: str) -> tuple[str | None, str | None, int]:
    dash = _PLACE_DASH.search(text, 0, 90)
    if not dash:
        return None, None, 0
    head = text[: dash.start()].strip()
    date = date_only(head)
    if date:
        place, end = _leading_place(text, dash.end())
        return place, date, end
    place, date = _place_and_date(_closed(head))
    if not place:
        place, date = _date_and_place(head)
        return (place, date, dash.end()) if place else (None, None, 0)
    if date:
        return place, date, dash.end()
    # `Lyon – 3 mars 2014. - Le conseil`: the date follows the place.
    after = _weekday_end(text[dash.end() :]) + dash.end()
    stated = _DATE_AFTER.match(text, after)
    if stated and text[stated.end() : stated.end() + 1].isupper():
        return place, stated["date"], stated.end()
    return place, None, dash.end()


def _stop_dateline(text: str) -> tuple[str | None, str | None, int]:
    """`Torino, 4 maggio 2011. Il sindaco`, `14 août 2013, Portugal. Le`: a place and a
    date, closed by a full stop and followed by a capital."""
    for stop in _STOP.finditer(text, 0, 90):
        if not text[stop.end() : stop.end() + 1].isupper():
            continue
        head = text[: stop.start()]
        place, date = _place_and_date(head)
        if not (place and date):
            place, date = _date_and_place(head)
        if place and date:
            return place, date, stop.end()
    return None, None, 0


_STOP = re.compile(r"\.\s+")
_DATE_AFTER = re.compile(rf"(?P<date>{DATE})(?:\s*[.,:]?\s*{_DASH}\s+|[.,:]\s+)")
_CLOSED_DATE = re.compile(r"(\d{4})\s*[.,]$")


def _closed(head: str) -> str:
    """`MILANO, 12 aprile 2016.` before the dash: the stop closes the date."""
    return _CLOSED_DATE.sub(r"\1", head)


def _date_and_place(head: str) -> tuple[str | None, str | None]:
    """`14 août 2013, Portugal.`: a date, then the place."""
    date_part, comma, place = head.rpartition(",")
    date = date_only(date_part) if comma else None
    place = place.strip().rstrip(".").strip()
    return (place, date) if date and is_place(place) else (None, None)


def _leading_place(text: str, start: int) -> tuple[str | None, int]:
    """The place after a leading date: `3 juillet 2012. - Québec - `."""
    dash = _PLACE_DASH.search(text, start, start + 60)
    if not dash:
        return None, start
    place, date = _place_and_date(text[start : dash.start()].strip())
    return (place, dash.end()) if place and not date else (None, start)


def _place_and_date(head: str) -> tuple[str | None, str | None]:
    match = _PLACE_DATE.match(head)
    place, date = (match["place"], match["date"]) if match else (head, None)
    place = _AGENCY.sub("", place.strip()).rstrip(",").strip()
    return (place, date) if is_place(place) else (None, None)


def date_only(text: str) -> str | None:
    """The date when `text` is nothing but a date, maybe after a weekday
    ("Friday, January 4, 2019", "Sabato 26 gennaio 2013")."""
    text = text.strip()
    match = _DATE_ONLY.match(text[_weekday_end(text) :])
    return match["date"] if match else None


def _weekday_end(text: str) -> int:
    match = _WEEKDAY.match(text)
    return match.end() if match and match[1].lower() in weekday_names() else 0


class _Weekdays:
    names: frozenset[str] | None = None


def weekday_names() -> frozenset[str]:
    """Weekday names, wide and abbreviated, of the languages newsrooms date in (Babel's data):
    a place ("Roma, 29 marzo 2022") must not be mistaken for a weekday."""
    if _Weekdays.names is None:
        _Weekdays.names = babel_weekday_names()
    return _Weekdays.names


def known_weekday_names() -> frozenset[str] | None:
    """The names, if this process has them already."""
    return _Weekdays.names


def use_weekday_names(names: frozenset[str]) -> None:
    """Use names an earlier run remembered: loading Babel's data for them takes a tenth of
    a second, a sixth of a one-edit rebuild."""
    _Weekdays.names = names


def babel_weekday_names() -> frozenset[str]:
    from babel import Locale

    names: set[str] = set()
    for code in WEEKDAY_LANGUAGES:
        days = Locale.parse(code).days
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                names.update(n.lower().rstrip(".") for n in days[context][width].values())
    return frozenset(names)


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


def parse_seed_text(path: str, text: str) -> Draft | None:
    lines = text.split("\n")
    body_lines, related = split_related(lines)
    title, body_lines, consumed = split_title(body_lines)
    date_line, body_lines, consumed = _split_date_line(body_lines, consumed)
    blocks = split_blocks(body_lines, first_line=consumed + 1)
    if not blocks:
        return None
    texts = tuple(b for _, b in blocks)
    opening = read_opening(texts)
    name = path.rsplit("/", 1)[-1]
    return Draft(
        path=path,
        id=seed_id(name, text),
        title=title,
        dateline=opening.place,
        date_text=date_line or opening.date,
        blocks=texts,
        related=related,
        lede=opening.lede,
        lead_in=opening.lead_in,
        body_line=blocks[0][0],
    )


def _split_date_line(lines: list[str], consumed: int) -> tuple[str | None, list[str], int]:
    """A first line that is only a date ("Friday, January 4, 2019") is the date, not text."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    date = date_only(lines[first]) if first is not None else None
    if first is None or date is None:
        return None, lines, consumed
    return date, lines[first + 1 :], consumed + first + 1


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
    texts = tuple(b for _, b in blocks)
    opening = read_opening(texts)
    return Draft(
        path=path,
        id=curated_id(path, meta),
        title=meta.title,
        dateline=opening.place,
        date_text=opening.date,
        blocks=texts,
        related=related,
        lede=opening.lede,
        lead_in=opening.lead_in,
        meta=meta,
        body_line=blocks[0][0] if blocks else body_start,
        curated=True,
    ), problems


def curated_id(path: str, meta: FrontMatter) -> str:
    """`id:` when given, else the hash of the file's path in the site: two articles with one
    text are two articles, and editing an article keeps its identity (renaming it does not,
    unless it states its `id:`)."""
    return meta.id or text_id(path)


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

    Returns (seed path -> curated draft, curated drafts that stand alone, problems). A
    curated file whose `id:` an earlier one (in file order) gives is skipped.
    """
    seeds = set(seed_paths)
    by_name: dict[str, list[str]] = {}
    for seed in sorted(seeds):
        by_name.setdefault(seed.rsplit("/", 1)[-1], []).append(seed)
    pairs: dict[str, Draft] = {}
    alone: list[Draft] = []
    problems: list[Problem] = []
    ids: dict[str, str] = {}
    for draft in sorted(curated, key=lambda d: d.path):
        given = draft.meta.id
        if given is not None and ids.setdefault(given, draft.path) != draft.path:
            problems.append(
                Problem(
                    path=draft.path,
                    line=1,
                    level="error",
                    message=f"'id: {given}' is already the id of {ids[given]}; skipped; "
                    "choose another id",
                )
            )
            continue
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
        id=meta.id or seed.id,
        path=curated.path,
        title=meta.title or seed.title,
        dateline=meta.dateline or (curated.dateline if curated.blocks else seed.dateline),
        date_text=curated.date_text if curated.blocks else seed.date_text,
        blocks=curated.blocks or seed.blocks,
        lede=curated.lede if curated.blocks else seed.lede,
        lead_in=curated.lead_in if curated.blocks else seed.lead_in,
        related=curated.related or seed.related,
        meta=meta,
        body_line=curated.body_line if curated.blocks else seed.body_line,
        curated=True,
    )
