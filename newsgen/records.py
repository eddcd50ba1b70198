"""The records that flow between pipeline stages: frozen, slotted, keyword-only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Level = Literal["warning", "error"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Something wrong with one input: where it is and what to do about it."""

    path: str
    message: str
    line: int | None = None
    level: Level = "warning"

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Image:
    """A picture: body figure or related-article image. `caption` is plain text."""

    url: str
    caption: str
    credit: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FrontMatter:
    """The curated fields of an article; None means "not given"."""

    title: str | None = None
    date: dt.date | dt.datetime | None = None
    slug: str | None = None
    lang: str | None = None
    dateline: str | None = None
    tags: tuple[str, ...] = ()
    summary: str | None = None
    draft: bool = False
    aliases: tuple[str, ...] = ()
    source: str | None = None
    # The lead image: a path in the site or a mirrored URL, shown above the article.
    image: str | None = None
    image_caption: str | None = None
    image_credit: str | None = None
    # The article's identity (feed entry ids, the URL registry), when not its file's path.
    id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """One parsed input file, not yet enriched: fields may be missing.

    `blocks` are Markdown source blocks, one per paragraph, in order; the dateline stays in the
    first block's text, as written. `lede` is the first block of prose (-1: none) and where
    its text starts, after its dateline: the headline and summary are made from there.
    `lead_in` is the block and the end of a text before the dateline that the headline is
    made from instead (a teaser sentence, a title-like first paragraph; -1: none).
    """

    path: str
    id: str
    title: str | None
    dateline: str | None
    date_text: str | None
    blocks: tuple[str, ...]
    related: tuple[Image, ...]
    lede: tuple[int, int]
    lead_in: tuple[int, int] = (-1, 0)
    meta: FrontMatter = field(default_factory=FrontMatter)
    body_line: int = 1
    curated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """A complete article, ready to be planned. The body HTML lives in the body store,
    keyed by `body_key`, so that all articles can be held without holding all bodies."""

    id: str
    # Stated in front matter (`id:`), not taken from the file: it yields to one that is.
    id_given: bool = False
    path: str
    order: int
    title: str
    slug: str
    slug_given: bool = False
    lang: str
    dateline: str | None
    date: dt.date | None
    published: dt.datetime | None
    summary: str
    tags: tuple[str, ...]
    related: tuple[Image, ...]
    # The picture that stands for the article (Open Graph, JSON-LD): its lead image, else
    # its first picture.
    image: str | None
    body_key: str
    draft: bool = False
    aliases: tuple[str, ...] = ()
    # For an article identified by its file (not by its name or `id:`), a sketch of its text
    # (newsgen.identity): a file renamed with nearly the same text keeps the identity.
    sketch: str = ""
    # The lead image of a curated article (`image:` in front matter): at the top of its
    # page and in its teasers. A seed's gallery is never one.
    lead: Image | None = None
