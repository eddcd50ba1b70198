"""The site's media store: the images `newsgen images fetch` mirrored, and how a build
publishes them.

The store is a folder of the site (`media/`, committed like `urls.yaml`): each image under a
name made of its content's hash, plus `manifest.tsv`, one line per image reference as the
articles write it (a URL, or a path in the site) with its status, file, checksum and size.
A build reads only these two: it never touches the network. Each mirrored raster image is
published as variants (a few widths, WebP plus its own format) under `/media/`, and every
`<img>` of a page that shows one becomes a `<picture>` with `srcset`, `sizes`, `width` and
`height`. Nothing here needs Pillow: the variants' sizes follow from the manifest.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from markupsafe import escape

from newsgen.config import MEDIA_MANIFEST, Config, media_digest

MANIFEST = MEDIA_MANIFEST
HEADER = (
    "# newsgen media store: reference, status, file, sha256, width, height, reason (tab-"
    "separated). Written by 'newsgen images fetch'; commit it with the files beside it.\n"
)
OUTPUT_DIR = "media"
# Widths of the variants, up to the original's (never enlarged): a phone, a column, the
# size Open Graph asks for, a wide screen.
WIDTHS = (320, 640, 1200, 1600)
OG_WIDTH = 1200
# The published format of each stored one: GIF and anything else Pillow reads becomes PNG.
FORMATS = {"jpeg": "jpg", "png": "png", "webp": "webp", "gif": "png"}
# Body figures fill the reading column (--max: 42rem in the theme).
DEFAULT_SIZES = "(min-width: 44rem) 42rem, 100vw"
# Part of every variant's name: a change of how variants are encoded makes new names.
ENCODING = "v1"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_IMG = re.compile(r"<img\s[^>]*>")
_ATTRIBUTE = re.compile(r'([a-zA-Z][a-zA-Z0-9:-]*)(?:="([^"]*)")?')


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One reference of the manifest. `status` is "ok" (in the store as `file`) or
    "failed" (`reason` says why; a later fetch tries again)."""

    ref: str
    status: str
    file: str = ""
    sha256: str = ""
    width: int = 0
    height: int = 0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def line(self) -> str:
        size = (str(self.width), str(self.height)) if self.ok else ("", "")
        fields = (self.ref, self.status, self.file, self.sha256, *size, self.reason)
        return "\t".join(" ".join(f.split()) for f in fields) + "\n"


def parse_line(line: str) -> Entry | None:
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 7 or not parts[0] or parts[0].startswith("#"):
        return None
    ref, status, file, sha, width, height, reason = parts
    try:
        entry = Entry(
            ref=ref,
            status=status,
            file=file,
            sha256=sha,
            width=int(width or 0),
            height=int(height or 0),
            reason=reason,
        )
    except ValueError:
        return None
    # The checksum names the variants' files: a hand-edited one is never a path.
    if entry.ok and (_SHA256.fullmatch(sha) is None or entry.width < 1 or entry.height < 1):
        return None
    return entry


def store_dir(config: Config) -> Path:
    return config.source_dir("media")


def read_manifest(store: Path) -> dict[str, Entry]:
    """Every entry of the store's manifest, by reference; none when there is no manifest.
    Lines that do not parse are passed over (a hand edit gone wrong loses only them)."""
    try:
        text = (store / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    entries = (parse_line(line) for line in text.splitlines())
    return {e.ref: e for e in entries if e is not None}


def manifest_text(entries: Iterable[Entry]) -> str:
    return HEADER + "".join(e.line() for e in sorted(entries, key=lambda e: e.ref))


def reference(url: str) -> str:
    """An image reference as the manifest keys it: as written, a leading `./` dropped."""
    url = url.strip()
    while url.startswith("./"):
        url = url[2:]
    return url


def is_remote(ref: str) -> bool:
    return ref.lower().startswith(("http://", "https://"))


def is_local(ref: str) -> bool:
    """A path in the site (`images/a.jpg`): no scheme, not site-absolute, not upward."""
    if not ref or ref.startswith(("/", "\\", "#")) or ":" in ref.split("/")[0]:
        return False
    return ".." not in ref.split("/")


# --- variants -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """One published file of a stored image: its name under `/media/` and pixel size."""

    name: str
    width: int
    height: int
    kind: str  # the file's extension: jpg, png or webp


def published_kind(entry: Entry) -> str:
    return FORMATS.get(entry.file.rsplit(".", 1)[-1].lower().replace("jpg", "jpeg"), "png")


def widths(width: int) -> tuple[int, ...]:
    """The variants' widths for an image `width` pixels wide: those of WIDTHS below it,
    and its own (or the largest of WIDTHS)."""
    below = [w for w in WIDTHS if w < width]
    return (*below, min(width, WIDTHS[-1]))


def variants(entry: Entry) -> tuple[Variant, ...]:
    """The files a build publishes for a stored image, smallest first: each width in its
    own format, then in WebP (once, for a WebP original)."""
    kinds = dict.fromkeys((published_kind(entry), "webp"))
    stem = entry.sha256[:24]
    return tuple(
        Variant(
            name=f"{stem}-{ENCODING}-{w}.{kind}",
            width=w,
            height=max(1, round(entry.height * w / entry.width)),
            kind=kind,
        )
        for kind in kinds
        for w in widths(entry.width)
    )


_VARIANT_NAME = re.compile(r"[0-9a-f]{24}-v[0-9]+-[0-9]+\.(?:jpg|png|webp)")


def is_variant(name: str) -> bool:
    """Whether a file name under `/media/` is one `variants` makes (of any store, any
    encoding): in an output folder of newsgen's, such files are newsgen's."""
    return _VARIANT_NAME.fullmatch(name) is not None


def og_variant(entry: Entry) -> Variant:
    """The variant Open Graph and JSON-LD name: 1200 pixels wide, or the widest there is,
    in the image's own format (not every card reader takes WebP)."""
    own = [v for v in variants(entry) if v.kind == published_kind(entry)]
    return next((v for v in own if v.width == OG_WIDTH), own[-1])


# --- the mirror a build publishes -----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    """What a build publishes from the store: `lines` is the manifest's text, searched for
    the references a page shows (a rebuild of a few pages parses a few lines, not all);
    `files` the names in the store. `remote` says what becomes of images not mirrored."""

    lines: str
    files: frozenset[str]
    remote: str
    base_url: str
    state: str

    @property
    def base_path(self) -> str:
        return urlsplit(self.base_url).path or "/"

    def find(self, ref: str) -> Entry | None:
        """The stored entry of `ref` when its file is in the store."""
        at = self.lines.find(f"\n{reference(ref)}\t")
        if at < 0:
            return None
        end = self.lines.find("\n", at + 1)
        entry = parse_line(self.lines[at + 1 : end if end >= 0 else None])
        return entry if entry and entry.ok and entry.file in self.files else None

    def stored(self) -> list[Entry]:
        """Every entry whose file is in the store, in the manifest's order."""
        entries = (parse_line(line) for line in self.lines.splitlines())
        return [e for e in entries if e is not None and e.ok and e.file in self.files]

    def url(self, variant: Variant) -> str:
        return f"{self.base_path}{OUTPUT_DIR}/{variant.name}"

    def publishes(self) -> bool:
        """Whether pages can change at all: images in the store, or remote ones to omit."""
        return bool(self.files) or self.remote == "omit"


def load(config: Config) -> Media:
    store = store_dir(config)
    try:
        data = (store / MANIFEST).read_bytes()
        text, listed = data.decode("utf-8"), os.listdir(store)
        state = media_digest(data, listed)  # what config.media_state() reads, read once
        if "\r" in text:  # as a file read as text has its line ends
            text = text.replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError):
        text, listed, state = "", [], config.media_state()
    return Media(
        lines="\n" + text,
        files=frozenset(n for n in listed if not n.startswith(".")) - {MANIFEST},
        remote=config.remote_images,
        base_url=config.base_url,
        state=state,
    )


# --- pages ----------------------------------------------------------------------------------


def rewrite(html: str, media: Media, og_image: str | None = None) -> str:
    """A page's `<img>` elements as the store has them: a mirrored image becomes a
    `<picture>` of its variants; a remote one not mirrored stays, or goes (its figure and
    caption stay) when `remote` is "omit". `og_image`, the article's image as the page's
    meta data names it, is pointed at its 1200-pixel variant when mirrored."""
    html = _IMG.sub(lambda m: _picture(m[0], media), html)
    entry = media.find(og_image) if og_image else None
    if entry is None or og_image is None:
        return html
    return _point_meta(html, urljoin(media.base_url, og_image), media, entry)


def _picture(tag: str, media: Media) -> str:
    inside = tag[len("<img") : -1].rstrip("/")
    attributes = {m[1]: m[2] for m in _ATTRIBUTE.finditer(inside)}
    sizes = unescape(attributes.pop("data-sizes", None) or "") or DEFAULT_SIZES
    src = unescape(attributes.get("src") or "")
    entry = media.find(src) if src else None
    if entry is None:
        if media.remote == "omit" and is_remote(src) and not _own(src, media):
            return ""
        return _tag("img", attributes)
    files = variants(entry)
    own = [v for v in files if v.kind == files[0].kind]
    fallback = next((v for v in own if v.width >= 640), own[-1])
    widest = own[-1]
    image: dict[str, str | None] = {
        "src": media.url(fallback),
        "srcset": _srcset(own, media),
        "sizes": sizes,
        "width": str(widest.width),
        "height": str(widest.height),
        **{k: v for k, v in attributes.items() if k not in ("src", "width", "height")},
    }
    image.setdefault("loading", "lazy")
    image.setdefault("decoding", "async")
    webp = [v for v in files if v.kind == "webp"]
    if own[0].kind == "webp":
        return _tag("img", image)
    source = _tag("source", {"type": "image/webp", "srcset": _srcset(webp, media), "sizes": sizes})
    return f"<picture>{source}{_tag('img', image)}</picture>"


def _own(src: str, media: Media) -> bool:
    return urlsplit(src).netloc == urlsplit(media.base_url).netloc


def _srcset(files: list[Variant], media: Media) -> str:
    return ", ".join(f"{media.url(v)} {v.width}w" for v in files)


def _tag(name: str, attributes: Mapping[str, str | None]) -> str:
    # Values come unescaped from the parsed tag or from names newsgen made: escaped once.
    shown = "".join(
        f' {k}="{escape(unescape(v))}"' if v is not None else f" {k}" for k, v in attributes.items()
    )
    return f"<{name}{shown}>"


def _point_meta(html: str, absolute: str, media: Media, entry: Entry) -> str:
    target = urljoin(media.base_url, media.url(og_variant(entry)))
    html = html.replace(f'content="{escape(absolute)}"', f'content="{escape(target)}"')
    return html.replace(f'"image":[{_json(absolute)}]', f'"image":[{_json(target)}]')


def _json(text: str) -> str:
    """A string as render.json_ld writes it into a script element."""
    encoded = json.dumps(text, ensure_ascii=False)
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
