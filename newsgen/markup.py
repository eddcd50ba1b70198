"""Markdown to safe HTML, and Markdown to plain text.

markdown-it-py with raw HTML off; links and images only for http, https, mailto and relative
URLs. Paragraphs without any Markdown syntax skip the parser: most scraped lines are plain text,
and this is the hottest loop of a cold build.
"""

from __future__ import annotations

import json
import re
from functools import cache
from html import escape, unescape
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from newsgen.records import Image

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# markdown-it's own protection against runaway recursion (its commonmark preset's value).
NESTING_LIMIT = 20
_CREDIT = re.compile(
    r"\s*\[\s*(?P<label>credits?|crédits?|foto|fotos|photos?|photo credit|bild|immagine)\s*:\s*"
    r"(?P<credit>[^\]]*)\]\s*$",
    re.IGNORECASE,
)
# An escaped character, or a bracket of the pair: what `_matching` looks at, found at C speed.
_BRACKET_TOKENS = {
    "[": re.compile(r"\\.|[\[\]]", re.DOTALL),
    "(": re.compile(r"\\.|[()]", re.DOTALL),
}
# Characters that can start Markdown inline syntax or entities, or block syntax at line start:
# two patterns, because one `^…` branch beside a class is retried at every character.
_INLINE_SYNTAX = re.compile(r"[\\`*_\[\]<>&!~|]")
_BLOCK_START = re.compile(r"\s*(?:[#>+=-]|\d+[.)])")
_URL_BLANKS = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_NOT_LITERAL = re.compile(r"[\\`*_<>~|\r\x00]|\]\(|!\[|&[#A-Za-z0-9]")
# Characters that XML 1.0 forbids and HTML calls parse errors: one of them in a title would make
# every feed that lists the article unreadable. Tab and newline stay.
_NONCHARS = "".join(
    f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000)
)
_CONTROLS = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef{_NONCHARS[:2]}]")
# Apart: a class holding astral characters is scanned range by range, ten times slower.
_ASTRAL_NONCHARS = re.compile(f"[{_NONCHARS[2:]}]")


def strip_controls(text: str) -> str:
    text = _CONTROLS.sub("", text)
    # Only a text with a character beyond U+FFFF is longer in UTF-16 than two bytes a character.
    if len(text.encode("utf-16-le", "surrogatepass")) > 2 * len(text):
        text = _ASTRAL_NONCHARS.sub("", text)
    return text


def has_syntax(text: str) -> bool:
    """Whether `text` may hold Markdown syntax; False means it is plain words."""
    return bool(_INLINE_SYNTAX.search(text) or _BLOCK_START.match(text))


def safe_url(url: str) -> bool:
    """http, https, mailto or relative; nothing that a browser could run, and nothing urllib
    cannot read (a `[` in a host that opens no IPv6 address). The URL is judged as written
    and once entities and percent-escapes are decoded, so that `jav&#9;ascript:` or
    `%6Aavascript:` is not passed on for a later tool to decode into a live scheme."""
    # Decoding leaves such a start as it is (it holds no escapes and no blanks): most URLs
    # are settled without it, on every article page's related images.
    if url.startswith(_PLAIN_STARTS) and "[" not in url:
        return True
    return _safe_scheme(url) and _safe_scheme(_decoded(url)) and _readable(url)


def _readable(url: str) -> bool:
    try:
        urlsplit(url)
    except ValueError:
        return False
    return True


_PLAIN_STARTS = ("https://", "http://", "/")


def _safe_scheme(url: str) -> bool:
    cleaned = _URL_BLANKS.sub("", url)
    if not cleaned:
        return False
    # A scheme as urllib and browsers read one; not by urlsplit, which raises ValueError
    # for a `[` in the host ("ftp://[x"), and a scraped URL must not stop a build.
    scheme = _SCHEME.match(cleaned)
    return scheme is None or scheme[1].lower() in SAFE_SCHEMES


def _decoded(url: str) -> str:
    for _ in range(3):  # escapes of escapes (`%2536`) need more than one pass
        url = unquote(unescape(url))
    return url


@cache
def _parser() -> MarkdownIt:
    # Imported here: a build that reads no article never loads markdown-it.
    from markdown_it import MarkdownIt

    md = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": False, "typographer": False, "maxNesting": NESTING_LIMIT},
    )
    md.enable(["table", "strikethrough"])
    md.validateLink = safe_url  # type: ignore[method-assign]
    return md


def render_block(block: str) -> str:
    """One Markdown block to HTML. An image alone on its line is a figure with its credit."""
    return _render(block)[0]


def render_body(blocks: tuple[str, ...]) -> tuple[str, int]:
    """An article's blocks to HTML, and how many of them were nested too deeply for the
    parser and so were flattened (their text is all there, their structure is not)."""
    rendered = [_render(b) for b in blocks]
    return "".join(html for html, _ in rendered), sum(deep for _, deep in rendered)


def render_blocks(blocks: tuple[str, ...]) -> str:
    return render_body(blocks)[0]


def stored_body(html: str, related: tuple[Image, ...]) -> str:
    """An article's body as the body store holds it: its related images (a line of JSON),
    then its HTML. Only its page shows the images, so the build's main process, which
    holds every article, does not (a fifth of an article's values)."""
    triples = [(i.url, i.caption, i.credit) for i in related]
    return json.dumps(triples, ensure_ascii=False) + "\n" + html


def split_body(stored: str) -> tuple[str, tuple[Image, ...]]:
    """The HTML and the related images of a body as `stored_body` stored it."""
    head, _, html = stored.partition("\n")
    return html, tuple(Image(url=u, caption=c, credit=r) for u, c, r in json.loads(head))


def _render(block: str) -> tuple[str, bool]:
    image = _image_block(block)
    if image is not None:
        return figure(image), False
    if "\n" not in block and not has_syntax(block):
        return f"<p>{escape(block)}</p>\n", False
    if _literal_paragraph(block):
        from markdown_it.common.utils import escapeHtml

        return f"<p>{escapeHtml(block)}</p>\n", False
    parser = _parser()
    tokens = parser.parse(block)
    if _too_deep(tokens, parser.options.maxNesting):
        return _flattened(block), True
    return str(parser.renderer.render(tokens, parser.options, {})), False


def _literal_paragraph(block: str) -> bool:
    """A line whose only syntax characters are brackets, '!' and '&' that can form no link, no
    image, no reference definition and no entity ("[...]" in quotes, "Oh!", "A & B"): its
    paragraph is its text, escaped as markdown-it escapes it, without the parser's 0.15 ms."""
    return not (
        "\n" in block
        or block[:1].isspace()
        or block[-1:].isspace()
        or block.startswith("[")
        or _NOT_LITERAL.search(block)
        or _BLOCK_START.match(block)
    )


# Past its nesting limit markdown-it drops the rest of a block without a word ("we should not
# care about content"); scraped text may still hold words there. A container opened one level
# below the limit is where that happens.
_CONTAINERS = frozenset({"blockquote_open", "list_item_open"})
_NESTING_MARKS = re.compile(r"^(?:[ \t]*(?:>|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)))+[ \t]*")


def _too_deep(tokens: list[Token], limit: int) -> bool:
    return any(t.type in _CONTAINERS and t.level >= limit - 1 for t in tokens)


def _flattened(block: str) -> str:
    """Each line of a block as a paragraph of its own, without quote and list marks."""
    lines = (_NESTING_MARKS.sub("", line) for line in block.split("\n"))
    return "".join(f"<p>{_parser().renderInline(line)}</p>\n" for line in lines if line.strip())


def _image_block(block: str) -> Image | None:
    if not block.startswith("![") or "\n" in block:
        return None
    return parse_image_line(block)


def figure(image: Image) -> str:
    """A figure with the caption and the credit apart; an unsafe URL keeps only the caption."""
    caption = escape(image.caption)
    credit = f' <span class="credit">{escape(image.credit)}</span>' if image.credit else ""
    img = (
        f'<img src="{escape(image.url)}" alt="{caption}" loading="lazy">'
        if safe_url(image.url)
        else ""
    )
    return f"<figure>{img}<figcaption>{caption}{credit}</figcaption></figure>\n"


def image_urls(blocks: tuple[str, ...]) -> list[str]:
    """The URL of every image in `blocks`, as written (unsafe ones too: the media store
    refuses them with a reason), in order."""
    urls = []
    for block in blocks:
        if "![" not in block:
            continue
        image = _image_block(block)
        if image is not None:
            urls.append(image.url)
            continue
        for token in _parser().parse(block):
            urls += [_source(c) for c in token.children or [] if c.type == "image"]
        urls += [url for url in _IMAGE_URL.findall(block) if not safe_url(url)]
    return urls


# An inline image's URL, for those markdown-it drops as unsafe (`data:`, `file:`).
_IMAGE_URL = re.compile(r"!\[[^\]\n]*\]\(\s*<?([^)\s>]+)")


def _source(token: Token) -> str:
    # markdown-it leaves an image whose URL it refused as text, not as an image token.
    return str(token.attrGet("src") or "")


def plain_text(markdown: str) -> str:
    """The words a reader sees, without Markdown syntax: for titles, summaries and search."""
    if not has_syntax(markdown):
        return " ".join(markdown.split())
    tokens = _parser().parseInline(markdown)
    return " ".join("".join(_text_of(t) for t in tokens).split())


def _text_of(token: Token) -> str:
    if token.type == "inline" and token.children:
        return "".join(_text_of(c) for c in token.children)
    if token.type in ("text", "code_inline"):
        return token.content
    if token.type == "image":
        return "".join(_text_of(c) for c in token.children or [])
    if token.type in ("softbreak", "hardbreak"):
        return " "
    return ""


# --- image lines ----------------------------------------------------------------------------


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
    caption, credit = split_credit(s[2:end])
    return Image(url=_destination(s[end + 2 : close]), caption=caption, credit=credit)


def _destination(target: str) -> str:
    """The URL of `(url "title")` or `(<url with spaces> "title")`."""
    target = target.strip()
    if target.startswith("<") and ">" in target:
        return target[1 : target.index(">")]
    return target.split()[0] if target else ""


def _matching(s: str, start: int, open_: str, close: str) -> int | None:
    """The index of the bracket that closes the one at `start`; a backslash escapes the
    character after it."""
    depth = 0
    for token in _BRACKET_TOKENS[open_].finditer(s, start):
        if token[0] == open_:
            depth += 1
        elif token[0] == close:
            depth -= 1
            if depth == 0:
                return token.start()
    return None


def split_credit(caption: str) -> tuple[str, str]:
    """A final `[Credit: …]`, `[foto: …]` or `[Photo: …]` group is the credit, kept apart
    with its label as the source wrote it ("Photo: Reuters"): a page in another language
    must not rewrite it."""
    match = _CREDIT.search(caption)
    if not match:
        return caption.strip(), ""
    name = " ".join(match["credit"].split())
    credit = f"{match['label']}: {name}" if name else ""
    return caption[: match.start()].strip().rstrip(",;").strip(), credit
