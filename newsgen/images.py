"""Pillow's part: whether a file is the raster image it claims to be, and the variants a
build publishes of one (see newsgen.media), encoded once per content into a cache that
outlives the output folder, on every core.

Encoding is deterministic: no metadata is written (no EXIF, no ICC-less guesses, no time),
and the encoders' settings are fixed, so the same image gives the same bytes on every build.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsgen import parallel, write
from newsgen.media import Entry, Variant, variants

if TYPE_CHECKING:
    from PIL import Image as PILImage

# The formats mirrored; SVG is refused apart (see newsgen.fetch), everything else too.
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
JPEG_QUALITY = 82
WEBP_QUALITY = 78


class NotAnImage(Exception):
    """Why a file is not mirrored; the message completes "…: " after the file and URL."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Inspected:
    kind: str  # the file extension of its real format: jpg, png, webp, gif
    width: int
    height: int


def inspect(path: Path) -> Inspected:
    """The real format and the upright size of the image in `path`, decoded whole (a
    truncated or corrupt file fails here, not in a build). Raises NotAnImage."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        # Past Pillow's pixel limit it only warns; past twice the limit it raises.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                kind = FORMATS.get(image.format or "")
                if kind is None:
                    raise NotAnImage(
                        f"a {image.format} image, not JPEG, PNG, WebP or GIF; convert it"
                    )
                image.load()
                width, height = ImageOps.exif_transpose(image).size
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise NotAnImage(
                f"a decompression bomb ({exc}); it is not decoded; use a smaller image"
            ) from exc
        except UnidentifiedImageError as exc:
            raise NotAnImage("not an image Pillow can read (JPEG, PNG, WebP or GIF)") from exc
        except (OSError, SyntaxError, ValueError) as exc:  # truncated, corrupt
            raise NotAnImage(f"a damaged image ({exc}); fetch it again or replace it") from exc
    return Inspected(kind=kind, width=width, height=height)


# --- variants -------------------------------------------------------------------------------


def missing(entries: Sequence[Entry], cache: Path) -> list[Entry]:
    """The stored images of which some variant is not in the cache yet."""
    present = set(os.listdir(cache)) if cache.is_dir() else set()
    return [e for e in entries if any(v.name not in present for v in variants(e))]


def encode_all(
    entries: Sequence[Entry],
    store: Path,
    cache: Path,
    *,
    jobs: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Encode the missing variants of `entries` into `cache`, one image per task on every
    core. Returns how many files were encoded."""
    cache.mkdir(parents=True, exist_ok=True)
    encoder = _Encoder(store, cache)
    return sum(parallel.run(encoder, list(entries), jobs=jobs, chunk=1, progress=progress))


class _Encoder:
    def __init__(self, store: Path, cache: Path) -> None:
        self.store, self.cache = store, cache

    def __call__(self, entry: Entry) -> int:
        return encode(self.store / entry.file, entry, self.cache)


def encode(source: Path, entry: Entry, cache: Path) -> int:
    """Write the variants of `entry` that `cache` lacks; each file appears whole or not at
    all. Returns how many were written."""
    from PIL import Image, ImageOps

    wanted = [v for v in variants(entry) if not (cache / v.name).is_file()]
    if not wanted:
        return 0
    with Image.open(source) as opened:
        upright = ImageOps.exif_transpose(opened)
        upright.load()
    for variant in wanted:
        write.write_atomic(cache / variant.name, _encoded(upright, variant))
    return len(wanted)


def _encoded(image: PILImage.Image, variant: Variant) -> bytes:
    from io import BytesIO

    from PIL import Image

    alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if alpha and variant.kind != "jpg" else "RGB"
    frame = image.convert(mode)
    if frame.width != variant.width:
        frame = frame.resize((variant.width, variant.height), Image.Resampling.LANCZOS)
    out = BytesIO()
    if variant.kind == "jpg":
        frame.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    elif variant.kind == "webp":
        frame.save(out, "WEBP", quality=WEBP_QUALITY, method=4, exact=False)
    else:
        frame.save(out, "PNG", optimize=True)
    return out.getvalue()
