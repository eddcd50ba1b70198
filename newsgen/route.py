"""Query routing: which shards can hold a word, so the search page loads only those.

Pagefind stores each word stemmed by the shard language's stemmer, and the page cannot stem
(Pagefind's JS API does not expose its stemmer). So the routing is itself written as tiny
Pagefind bundles, which the page searches with the language's own Pagefind: Pagefind stems
the query word exactly as it does for the shards. A routing bundle's "pages" are the shards of
its language, its words those the shards' own index files hold (read from them, never
re-derived), and each bundle holds the words that begin with one or two letters, so a query
fetches a small part of the routing (a bundle per word and language).

That a word's stem begins with the same two letters as the word (after Pagefind's lower case
and diacritics folding) is what makes the route right: true of the suffix-stripping Snowball
stemmers of ROUTED languages; a language not listed there is not routed (all its shards load).
Nor is a language of fewer than MIN_SHARDS shards: see `worth_routing`.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from newsgen import cbor

ROUTES = "route"
KEY_LENGTH = 2
# Languages whose Snowball stemmer only strips or rewrites endings (and folds letters the
# query has already lost: case, diacritics, German's ß, which the page tries both ways).
ROUTED = frozenset(
    {"da", "de", "en", "es", "fi", "fr", "hu", "it", "nb", "nl", "no", "pt", "ro", "ru", "sv", "tr"}
)
_MAGIC = b"pagefind_dcd"
_LAST = "\U0010ffff"


def key_of(word: str) -> str:
    """The routing bundle a stored word belongs to: its first letters."""
    return word[:KEY_LENGTH]


# Shards are 1, 2, 4, 8, … buckets of a language (newsgen.search.bucket_count).
MIN_SHARDS = 3


def routed(lang: str) -> bool:
    return lang.split("-")[0] in ROUTED


def worth_routing(lang: str, shards: int) -> bool:
    """Whether a language of `shards` shards is routed. Routing puts a step before the first
    result (the page sets up the routing's Pagefind and searches it, then the shards), which
    saves loading the shards that lack the query's words: with one or two shards, at most two
    shards' metadata and index chunks. Measured on the benchmark's 10,000 articles (Italian in
    2 shards, French in 1, English in 8): not routing the two small languages brought the
    first result from 978 to 773 ms (median of 24 cold loads each, in turns) for 6 kB less;
    at 100,000, not routing French's 4 shards saved no time and loaded 19 kB more."""
    return routed(lang) and shards >= MIN_SHARDS


def build_routes(
    words: Mapping[str, Iterable[str]], order: Sequence[str], lang: str, version: str
) -> dict[str, bytes]:
    """The routing files of one language (path under `route/<lang>/` → bytes), from the
    words each shard of it holds; `order` is its shards in the manifest's order. Pure and
    deterministic: the same words give the same bytes whatever their order."""
    index = {name: at for at, name in enumerate(order)}
    holders: dict[str, set[int]] = defaultdict(set)
    for name, found in words.items():
        for word in found:
            holders[word].add(index[name])
    groups: dict[str, list[str]] = defaultdict(list)
    for word in sorted(holders):
        groups[key_of(word)].append(word)
    pages = [[name, 1] for name in order]
    files: dict[str, bytes] = {}
    for key in sorted(groups):
        # Named by the key, not the content: the page finds a key's files from the key
        # alone, and asks for them with the digest of the language's routing (a new name
        # whenever the routing changes).
        name = f"{lang}_{key.encode().hex()}"
        entries = [[w, _pages(holders[w]), []] for w in groups[key]]
        meta = [version, pages, [[key, key + _LAST, name]], [], [], []]
        files[f"{key.encode().hex()}/index/{name}.pf_index"] = _gzip([entries])
        files[f"{key.encode().hex()}/pagefind.{name}.pf_meta"] = _gzip(meta)
    listing = json.dumps({"keys": sorted(groups)}, ensure_ascii=False, separators=(",", ":"))
    files["keys.json"] = listing.encode()
    return files


def _pages(shards: Iterable[int]) -> list[list[Any]]:
    """A word's pages as Pagefind writes them: each number the difference from the one
    before (absolute numbers read as differences point past the last page, and Pagefind's
    WebAssembly stops), one location each."""
    out: list[list[Any]] = []
    last = 0
    for shard in sorted(shards):
        out.append([shard - last, [0], []])
        last = shard
    return out


def _gzip(value: Any) -> bytes:
    return gzip.compress(_MAGIC + cbor.dumps(value), mtime=0)


def _unpack(data: bytes) -> Any:
    raw = gzip.decompress(data)
    if not raw.startswith(_MAGIC):
        raise ValueError("not a Pagefind data file")
    return cbor.loads(raw[len(_MAGIC) :])


def shard_words(folder: Path) -> set[str]:
    """Every word a shard's Pagefind index holds, as stored (stemmed, folded)."""
    found: set[str] = set()
    for path in sorted((folder / "index").glob("*.pf_index")):
        raw = gzip.decompress(path.read_bytes())
        words = chunk_words(raw)
        if words is None:  # not the shape chunk_words knows: read all of it
            words = [str(entry[0]) for entry in _unpack(path.read_bytes())[0]]
        found.update(words)
    return found


# A chunk is mostly the places of each word on each page, small integers: decoded one by one
# in Python, a 100k archive's chunks took 150 s. The words alone are read here, the places
# skipped by a regular expression (one CBOR integer, then arrays of them), and anything of
# another shape gives None.
_INT = rb"(?:[\x00-\x17\x20-\x37]|[\x18\x38].|[\x19\x39]..|[\x1a\x3a]....)"
_ARRAY = rb"(?:[\x80-\x97]|\x98.|\x99..|\x9a....)"
_PAGES = re.compile(
    _ARRAY + rb"(?:\x83" + _INT + _ARRAY + _INT + rb"*" + _ARRAY + _INT + rb"*)*", re.DOTALL
)


def chunk_words(raw: bytes) -> list[str] | None:
    """The words of a decompressed Pagefind index chunk (`pagefind_dcd` and CBOR
    `[[[word, pages, variants], ...]]`, each variant `[word, pages]`), or None."""
    try:
        at = len(_MAGIC)
        if not raw.startswith(_MAGIC) or raw[at] != 0x81:
            return None
        count, at = _count(raw, at + 1, 0x80)
        words = []
        for _ in range(count):
            if raw[at] != 0x83:
                return None
            word, at = _text(raw, at + 1)
            words.append(word)
            at = _skip_pages(raw, at)
            variants, at = _count(raw, at, 0x80)
            for _ in range(variants):
                if raw[at] != 0x82:
                    return None
                _, at = _text(raw, at + 1)
                at = _skip_pages(raw, at)
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    return words if at == len(raw) else None


def _count(raw: bytes, at: int, major: int) -> tuple[int, int]:
    """The length in a CBOR head of the given major type (0x80 array, 0x60 text)."""
    info = raw[at] - major
    if 0 <= info < 24:
        return info, at + 1
    size = {24: 1, 25: 2, 26: 4}.get(info)
    if size is None:
        raise ValueError("not a short array or text")
    return int.from_bytes(raw[at + 1 : at + 1 + size], "big"), at + 1 + size


def _text(raw: bytes, at: int) -> tuple[str, int]:
    length, at = _count(raw, at, 0x60)
    return raw[at : at + length].decode("utf-8"), at + length


def _skip_pages(raw: bytes, at: int) -> int:
    match = _PAGES.match(raw, at)
    if match is None:
        raise ValueError("not a list of pages")
    return match.end()


def keys_of(folder: Path) -> list[str] | None:
    """The keys of the routing in `folder`, as its `keys.json` lists them; None when it cannot
    be read."""
    try:
        keys = json.loads((folder / "keys.json").read_text(encoding="utf-8"))["keys"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [str(key) for key in keys] if isinstance(keys, list) else None


def routed_words(folder: Path, order: Sequence[str]) -> dict[str, set[str]]:
    """The words of each shard as the routing written before holds them (so that a rebuild
    reads only the shards it re-indexed); empty where there is no readable routing."""
    keys = keys_of(folder)
    if keys is None:
        return {}
    found: dict[str, set[str]] = {name: set() for name in order}
    try:
        for key in keys:
            meta = _unpack(next((folder / key.encode().hex()).glob("*.pf_meta")).read_bytes())
            names = [str(page[0]) for page in meta[1]]
            for path in (folder / key.encode().hex() / "index").glob("*.pf_index"):
                for word, pages, _ in _unpack(path.read_bytes())[0]:
                    at = 0
                    for page in pages:
                        at += page[0]
                        if names[at] in found:
                            found[names[at]].add(str(word))
    except (OSError, ValueError, KeyError, TypeError, IndexError, StopIteration, EOFError):
        return {}
    return found
