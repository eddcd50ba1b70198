"""py3langid's model, loaded fast.

The wheel ships the model LZMA-compressed: unpacking it costs 1-2 s, more than a whole
one-edit rebuild may take. The unpacked arrays are kept once in the site's cache folder and
loaded from there (a tenth of the time) on later builds; anything unexpected in that copy
falls back to the packaged model, so the copy is an optimisation, never a source of truth.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any


def load(cache_dir: Path) -> Any:
    """A py3langid LanguageIdentifier with normalised probabilities."""
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
    from py3langid.modelio import load_model

    copy = cache_dir / f"langid-{version('py3langid')}.pickle"
    parts = None
    with contextlib.suppress(Exception), copy.open("rb") as handle:
        parts = pickle.load(handle)  # streamed: the 68 MB are never held twice
    if parts is None:
        parts = load_model(Path(MODEL_DIR) / MODEL_FILE)
        _save(copy, parts)
    ptc, pc, classes, nextmove, row, output = parts
    return LanguageIdentifier(
        np.asarray(ptc), np.asarray(pc), classes, nextmove, output, norm_probs=True, tk_row=row
    )


def _save(path: Path, parts: object) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(parts, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
