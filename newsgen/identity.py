"""The identity of an article whose file name carries none.

A seed named `NNN_<16 hex>.txt` carries its id in its name, and `id:` in front matter states
one. Any other article (a seed with another name, a curated article without `id:`) is
identified by its file: the URL registry records, for each such id, the file it comes from and
a sketch of its text. Editing the file keeps its identity (its path has not changed), and so
does renaming it when the text stays nearly the same: an article whose file is new takes over
the identity of a recorded file that is gone when their texts resemble each other enough.

"Nearly the same" is measured as the resemblance (Jaccard index) of the texts' sets of
three-word shingles, estimated from a one-permutation b-bit MinHash sketch of 32 buckets
(Broder 1997; Li and König 2010; Li, Owen and Zhang 2012), and means at least one half: a
typo fixed, a paragraph added or a sentence rewritten keep it; another article, or the same
one half rewritten, does not.
Everything here is a pure function of the registry and the inputs, whatever order the files
are listed in, so that a build from nothing gives every article the identity an incremental
build gave it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

SEED_NAME = re.compile(r"^\d+_[0-9a-f]{16}\.txt$")  # as newsgen.load reads seed names
BUCKETS = 32
NEARLY = 0.5
_EMPTY = "--"
_WORD = re.compile(r"\w+")
_SHINGLE = 3
_LOW_BITS = (1 << 59) - 1


def named(path: str) -> bool:
    """Whether the file's name carries its article's id (`NNN_<16 hex>.txt`)."""
    return bool(SEED_NAME.match(path.rsplit("/", 1)[-1]))


def path_id(path: str, turn: int = 1) -> str:
    """The id of a file first seen at `path` (the same hash that curated articles have long
    been identified by); `turn` > 1 when that id is taken."""
    text = path if turn == 1 else f"{path}\0{turn}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def sketch(text: str) -> str:
    """The text's MinHash sketch: per bucket, the low 8 bits of the least hash of its
    shingles (two hex digits), or `--` when no shingle falls in the bucket. (Eight bits make
    two different least hashes look equal once in 256: a resemblance a little too high.)"""
    words = _WORD.findall(text.casefold())
    shingles = {" ".join(words[i : i + _SHINGLE]) for i in range(max(1, len(words) - 2))}
    least: list[int | None] = [None] * BUCKETS
    for shingle in shingles:
        if not shingle:
            continue
        digest = hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "big")
        bucket, rest = value >> 59, value & _LOW_BITS
        low = least[bucket]
        if low is None or rest < low:
            least[bucket] = rest
    return "".join(_EMPTY if v is None else f"{v & 0xFF:02x}" for v in least)


def resemblance(a: str, b: str) -> float:
    """The estimated resemblance of the texts of two sketches, from 0 to 1 (0 when either
    is not a sketch, or both texts are empty)."""
    if len(a) != 2 * BUCKETS or len(b) != 2 * BUCKETS:
        return 0.0
    pairs = [(a[i : i + 2], b[i : i + 2]) for i in range(0, len(a), 2)]
    counted = [(x, y) for x, y in pairs if not (x == _EMPTY and y == _EMPTY)]
    if not counted:
        return 0.0
    return sum(1 for x, y in counted if x == y) / len(counted)


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """An article identified by its file: the file (`path`), the id it was made with
    (`made`: a hash of a seed's text, of a curated file's path), and its text's sketch.
    `settled` is False for a draft, whose identity never moves by its text: a draft's
    identity is not recorded, and its text may change before it is."""

    path: str
    made: str
    sketch: str
    settled: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Known:
    """What the registry knows: every id it has, and for ids identified by a file, the
    file and its text's sketch as recorded."""

    ids: Collection[str] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)


def assign(claims: Iterable[Claim], known: Known, present: Collection[str]) -> dict[str, str]:
    """The id of each claim, by its path. In turn: the id recorded for the file; the id the
    article was made with, when the registry has it with no file (recorded before files
    were); the id of a recorded file that is no longer `present` whose text it nearly has
    (the most alike pairs first); else a new id from its path."""
    by_file: dict[str, str] = {}
    for recorded in sorted(known.files):
        by_file.setdefault(known.files[recorded], recorded)
    claims = sorted(claims, key=lambda c: c.path)
    ids: dict[str, str] = {}
    used: set[str] = set()
    for claim in claims:
        key = by_file.get(claim.path)
        if key is None and claim.settled and _unfiled(claim.made, known, used):
            key = claim.made
        if key is not None:
            ids[claim.path] = key
            used.add(key)
    waiting = [c for c in claims if c.path not in ids]
    ids.update(_renamed(waiting, known, present, used))
    taken = set(known.ids) | used
    for claim in waiting:
        if claim.path not in ids:
            ids[claim.path] = _new_id(claim.path, taken)
            taken.add(ids[claim.path])
    return ids


def _unfiled(key: str, known: Known, used: Collection[str]) -> bool:
    """Whether the registry has `key` with no file, and no claim has it yet (two seeds
    with one text were made with one id)."""
    return key in known.ids and key not in known.files and key not in used


def _renamed(
    claims: Iterable[Claim], known: Known, present: Collection[str], used: set[str]
) -> dict[str, str]:
    """Claims matched to recorded files that are gone, by resemblance of their texts."""
    gone = [
        key
        for key, file in sorted(known.files.items())
        if file not in present and key not in used and known.texts.get(key)
    ]
    pairs = []
    for claim in claims:
        if not claim.settled:
            continue
        for key in gone:
            score = resemblance(claim.sketch, known.texts[key])
            if score >= NEARLY:
                pairs.append((-score, key, claim.path))
    matched: dict[str, str] = {}
    for _, key, path in sorted(pairs):
        if key not in used and path not in matched:
            matched[path] = key
            used.add(key)
    return matched


def _new_id(path: str, taken: Collection[str]) -> str:
    turn = 1
    while (key := path_id(path, turn)) in taken:
        turn += 1
    return key
