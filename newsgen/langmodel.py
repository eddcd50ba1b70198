"""py3langid's model and classifier, loaded fast and run in a few array operations.

py3langid reads a text byte by byte through its automaton in Python, then weighs the features
it met with float16 rows that numpy converts to float32 on every call. `classify` gives the same
answer and the same confidence, to the bit: the same features, counted in the same order, weighed
in the same float32 arithmetic. It differs in how: the automaton is stepped for all positions at
once, and the weights are converted once, when the model is built.

The wheel ships the model LZMA-compressed: unpacking it costs 1-2 s, more than a whole one-edit
rebuild may take, and the unpacked arrays are 97 MB. So they are kept once per user, in
`$XDG_CACHE_HOME/newsgen` (else `~/.cache/newsgen`; the site's cache folder when neither can be
written), and mapped from there (no copy, no unpacking) by every later build of every site;
anything unexpected in that copy falls back to the packaged model, so the copy is an
optimisation, never a source of truth.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import shutil
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

# numpy is imported where it is used: importing it takes 0.1 s, and most rebuilds never
# identify a language.
if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Bump when the arrays kept in the cache change meaning.
FORMAT = 4


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LanguageModel:
    """Naive Bayes over byte n-grams, found by a deterministic automaton (Aho-Corasick).

    A transition is `row base + byte`, row base being 256 times the row of the state it leaves
    (states with the same moves share a row); `next_state` gives the state it enters. Per state:
    `state_base`, its row base, and `output`, its feature (-1: none).
    """

    classes: npt.NDArray[np.str_]
    weights: npt.NDArray[np.float32]  # feature × class
    priors: npt.NDArray[np.float32]  # class
    next_state: npt.NDArray[np.uint32]
    state_base: npt.NDArray[np.uint32]
    output: npt.NDArray[np.int32]
    # [row base of the start state, longest path from the start to any state, a byte that
    # leads from the start back to it]
    entry: npt.NDArray[np.int64]
    # (first, later) columns of a label that appears twice (srl and sr are both 'sr')
    aliases: npt.NDArray[np.int64]


def classify(model: LanguageModel, text: str) -> tuple[str, float]:
    """(language, probability): py3langid's `classify` with normalised probabilities."""
    return classify_all(model, [text])[0]


def classify_all(model: LanguageModel, texts: Sequence[str]) -> list[tuple[str, float]]:
    """`classify` of each text, for many texts at once. A text of a few hundred bytes costs
    numpy a few dozen calls, and their overhead was most of its cost: the automaton now runs
    once over all the texts, the weights are gathered once, and the scores are normalised
    together. Each text's features are still weighed on their own, in the same order, so
    every answer is the one py3langid gives for that text alone."""
    import numpy as np

    if not texts:
        return []
    datas = [_utf8(text) for text in texts]
    features, counts, bounds = _features(model, datas)
    rows = model.weights.take(features, axis=0)
    seen = counts.astype(np.float32)
    scores = np.zeros((len(datas), len(model.classes)), dtype=np.float32)
    for i, (start, end) in enumerate(itertools.pairwise(bounds)):
        if start < end:
            scores[i] = np.log1p(seen[start:end]) @ rows[start:end] + model.priors
    # The temperature sqrt(bytes) is py3langid's calibration across text lengths.
    temperatures = [1.0 / math.sqrt(len(data) or 1) for data in datas]
    scores *= np.array(temperatures, dtype=np.float32)[:, None]
    np.exp(scores - scores.max(axis=1, keepdims=True), out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    for first, other in model.aliases.tolist():
        scores[:, first] += scores[:, other]
        scores[:, other] = 0.0
    best = scores.argmax(axis=1).tolist()
    return [(str(model.classes[b]), float(scores[i, b])) for i, b in enumerate(best)]


def _utf8(text: str) -> bytes:
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


def feature_counts(model: LanguageModel, data: bytes) -> Counter[int]:
    """How often the automaton enters each feature's state while reading `data`, in order of
    first entry (py3langid's `visit_counts`; the order fixes the float sums)."""
    features, counts, _ = _features(model, [data])
    return Counter(dict(zip(features.tolist(), counts.tolist(), strict=True)))


def _features(
    model: LanguageModel, datas: Sequence[bytes]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], list[int]]:
    """The features each text enters and how often, each text's in order of first entry:
    text i's are `[bounds[i]:bounds[i + 1]]`.

    For each byte, the automaton enters the longest suffix of the text so far that is a
    state, never more than `depth` bytes: reading just the `depth` bytes that end at the byte,
    from the start, enters the same state. So every position of every text is stepped at once,
    `depth` times, over the texts joined by `depth - 1` bytes that loop on the start state."""
    import numpy as np

    start, depth, pad = model.entry.tolist()
    gap = bytes([pad]) * (depth - 1)
    joined = np.frombuffer(gap + gap.join(datas) + gap, dtype=np.uint8).astype(np.intp)
    n = len(joined) - len(gap)
    base: npt.NDArray[np.integer[Any]] = np.full(n, start, dtype=np.intp)
    for back in range(depth - 1):
        base = model.state_base.take(model.next_state.take(base + joined[back : back + n]))
    entered = model.output.take(model.next_state.take(base + joined[depth - 1 :]))
    # Position i of the joined texts belongs to text `owner[i]`, which is `lengths[owner[i]]`
    # bytes long and starts at `starts[owner[i]]`; the gap after it belongs to no text.
    lengths = np.fromiter(map(len, datas), dtype=np.intp, count=len(datas))
    spans = lengths + len(gap)
    owner = np.repeat(np.arange(len(datas)), spans)
    starts = np.cumsum(spans) - spans
    inside = np.arange(n) - starts[owner] < lengths[owner]
    keep = inside & (entered >= 0)
    width = len(model.weights)
    keys = owner[keep] * width + entered[keep]
    found, first, counts = np.unique(keys, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    found, counts = found[order], counts[order]
    texts = found // width
    bounds = np.searchsorted(texts, np.arange(len(datas) + 1)).tolist()
    return found - texts * width, counts, bounds


# --- building -------------------------------------------------------------------------------


def build(parts: tuple[Any, ...]) -> LanguageModel:
    """The model from py3langid's parts: (float16 weights, priors, classes, distinct automaton
    rows, row of each state, feature of each state)."""
    import numpy as np

    ptc, pc, classes, nextmove, row, output = parts
    moves = np.asarray(nextmove, dtype=np.uint32)
    state_base = (np.asarray(row, dtype=np.uint32) << 8).astype(np.uint32, copy=False)
    start = int(state_base[0])
    # Every py3langid model has such bytes: those that start no feature (0 among them).
    (loops,) = np.nonzero(state_base[moves[start : start + 256]] == start)
    return LanguageModel(
        classes=np.asarray(classes, dtype=np.str_),
        weights=np.asarray(ptc, dtype=np.float32),
        priors=np.asarray(pc, dtype=np.float32),
        next_state=moves,
        state_base=state_base,
        output=np.asarray(output, dtype=np.int32),
        entry=np.array([start, _depth(moves.reshape(-1, 256), row), loops[0]], dtype=np.int64),
        aliases=np.array(_aliases(list(classes)), dtype=np.int64).reshape(-1, 2),
    )


def _aliases(classes: list[str]) -> list[tuple[int, int]]:
    first: dict[str, int] = {}
    pairs = []
    for i, label in enumerate(classes):
        if label in first:
            pairs.append((first[label], i))
        else:
            first[label] = i
    return pairs


def _depth(moves: npt.NDArray[Any], row: Any) -> int:
    """The longest of the shortest paths from the start to each state (breadth first)."""
    import numpy as np

    state_row = np.asarray(row, dtype=np.intp)
    seen = np.zeros(len(state_row), dtype=bool)
    seen[0] = True
    frontier = np.zeros(1, dtype=np.intp)
    depth = 0
    while True:
        rows = np.zeros(len(moves), dtype=bool)
        rows[state_row[frontier]] = True
        reached = np.zeros(len(state_row), dtype=bool)
        reached[moves[rows]] = True
        frontier = np.flatnonzero(reached & ~seen)
        if not frontier.size:
            return depth
        seen[frontier] = True
        depth += 1


def packaged() -> LanguageModel:
    """The model in py3langid's wheel (slow: unpacks it)."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.modelio import load_model

    return build(load_model(Path(MODEL_DIR) / MODEL_FILE))


# --- the copy in the cache ------------------------------------------------------------------


def copy_folder(site_cache: Path) -> Path:
    """Where the unpacked copy is kept: the user's cache folder when it can be written (one
    copy for every site), else `site_cache`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "newsgen"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return site_cache
    return folder if os.access(folder, os.W_OK) else site_cache


def load(cache_dir: Path) -> LanguageModel:
    """The model from the cache folder's copy; made from the packaged one when missing."""
    from importlib.metadata import version  # 12 ms to import: only builds that detect

    copy = cache_dir / f"langid-{version('py3langid')}-{FORMAT}"
    with contextlib.suppress(Exception):
        return _read(copy)
    model = packaged()
    # Other formats of this version's copy (a pickle before), or a broken one: 100 MB each.
    # Not other versions': two installs may share the user's cache folder.
    for stale in cache_dir.glob(f"langid-{version('py3langid')}*"):
        with contextlib.suppress(OSError):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    _save(copy, model)
    return model


def _read(folder: Path) -> LanguageModel:
    """The copy, mapped: pages are read when first used, and shared by every process."""
    import numpy as np

    # Plain arrays over the mapping: np.memmap's indexing is Python code.
    model = LanguageModel(
        **{
            f.name: np.asarray(np.load(folder / f"{f.name}.npy", mmap_mode="r"))
            for f in fields(LanguageModel)
        }
    )
    # Shapes only: reading every value would cost what mapping saves. A value out of range
    # raises IndexError where it is used.
    classes = model.weights.shape[1]
    consistent = (
        (model.weights.dtype, model.next_state.dtype, model.state_base.dtype, model.output.dtype)
        == (np.dtype(np.float32), np.dtype(np.uint32), np.dtype(np.uint32), np.dtype(np.int32))
        and model.classes.shape == model.priors.shape == (classes,)
        and model.output.shape == model.state_base.shape
        and model.next_state.shape[0] % 256 == 0
        and model.entry.shape == (3,)
        and model.aliases.shape[1:] == (2,)
    )
    if not consistent:
        raise ValueError(f"{folder}: inconsistent language model copy")
    return model


def _save(folder: Path, model: LanguageModel) -> None:
    import numpy as np

    with contextlib.suppress(OSError):
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=folder.parent, suffix=".tmp")
        try:
            for f in fields(LanguageModel):
                np.save(os.path.join(tmp, f"{f.name}.npy"), getattr(model, f.name))
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
