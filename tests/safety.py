"""What must never reach a built page: active elements, event handlers, script URLs.

Shared by the hostile-input, property and `newsgen check` tests. Pages are parsed (lxml's HTML
parser for HTML, its XML parser for feeds and sitemaps) and the checks are on elements and
attributes, never on regular expressions over the text. The HTML inside Atom `content` and
`summary` elements is parsed and checked too, since feed readers render it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import unquote

from lxml import etree, html

# Elements that run code, load other documents, or change how URLs resolve.
ACTIVE = frozenset(
    {
        "script",
        "iframe",
        "frame",
        "frameset",
        "svg",
        "math",
        "object",
        "embed",
        "applet",
        "base",
        "form",
        "style",
    }
)
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "srcset",
        "action",
        "formaction",
        "poster",
        "data",
        "background",
        "cite",
        "ping",
        "longdesc",
        "manifest",
        "codebase",
        "xlink:href",
        "{http://www.w3.org/1999/xlink}href",
    }
)
# `<meta content>` is a URL only for these properties.
URL_METAS = frozenset({"og:url", "og:image", "twitter:image"})
_BAD_SCHEME = re.compile(r"^(?:javascript|vbscript|data|livescript):", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")
# The one inline style markdown-it writes: the alignment of a table column.
_ALIGN = re.compile(r"^text-align:(?:left|center|right)$")


def dangerous_url(value: str) -> bool:
    """A script-capable scheme, also once entities and percent-escapes are decoded and
    whitespace removed (what a lenient browser or a later tool might do)."""
    for _ in range(3):
        value = unquote(unescape(value))
    return bool(_BAD_SCHEME.match(_INVISIBLE.sub("", value)))


def element_findings(root: etree._Element, where: str) -> Iterator[str]:
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = element.tag.rsplit("}", 1)[-1].lower()
        if tag == "script" and element.get("type") == "application/ld+json":
            json.loads(element.text or "")  # the theme's structured data: must be pure JSON
        elif tag == "form" and element.get("role") == "search":
            pass  # the theme's search box: raw HTML in input is text, so no input makes a role
        elif tag in ACTIVE:
            yield f"{where}: <{tag}> element"
        for name, value in element.attrib.items():
            short = str(name).rsplit("}", 1)[-1].lower()
            if short.startswith("on"):
                yield f"{where}: <{tag} {short}=…> event handler"
            if short == "style" and not _ALIGN.match(value):
                yield f"{where}: <{tag} style=…> attribute"
            is_url = str(name).lower() in URL_ATTRIBUTES or (
                tag == "meta" and element.get("property", element.get("name", "")) in URL_METAS
            )
            if is_url and dangerous_url(value):
                yield f"{where}: <{tag} {short}={value!r}> script URL"


def html_findings(data: bytes, where: str) -> list[str]:
    return list(element_findings(html.document_fromstring(data), where))


def fragment_findings(text: str, where: str) -> list[str]:
    if not text.strip():
        return []
    return list(element_findings(html.fragment_fromstring(text, create_parent="div"), where))


def xml_findings(data: bytes, where: str) -> list[str]:
    """Feeds and sitemaps must be well-formed XML (`etree.fromstring` raises otherwise)."""
    root = etree.fromstring(data)
    found = list(element_findings(root, where))
    for element in root.iter("{http://www.w3.org/2005/Atom}content"):
        found += fragment_findings(element.text or "", f"{where} (entry content)")
    for element in root.iter("{http://www.w3.org/2005/Atom}summary"):
        if element.get("type") == "html":
            found += fragment_findings(element.text or "", f"{where} (entry summary)")
    return found


# The theme's own: the search page runs Pagefind's scripts (no input reaches that page), and
# Pagefind's bundle holds its UI's HTML fragments.
THEME_FILES = ("search/index.html",)


def site_findings(output: Path) -> list[str]:
    """Every problem in every HTML and XML file of a built site."""
    found: list[str] = []
    for path in sorted(output.rglob("*")):
        where = path.relative_to(output).as_posix()
        if where in THEME_FILES or where.startswith("pagefind/"):
            continue
        if path.suffix == ".html":
            found += html_findings(path.read_bytes(), where)
        elif path.suffix == ".xml":
            found += xml_findings(path.read_bytes(), where)
    return found
