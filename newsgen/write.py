"""Stage 5, write: bytes into the output folder, never half-written, never outside it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


class OutputError(Exception):
    """The output folder cannot be used; the message says why and what to do."""


def check_output(output: Path, sources: Iterable[Path]) -> None:
    """Refuse an output folder that is, contains or sits inside a source folder: cleaning it
    would delete the user's articles."""
    out = output.resolve()
    for source in sources:
        src = source.resolve()
        if out == src or src.is_relative_to(out) or out.is_relative_to(src):
            raise OutputError(
                f"output folder {output} overlaps source folder {source}; "
                "choose another output folder with --output"
            )


def target(output: Path, relative: str) -> Path:
    """`output/relative`, refusing anything that would land outside `output`.

    Pure path arithmetic (no `resolve()`, which costs a system call per path component on
    every page): the output folder is newsgen's own, so no input can plant a link in it."""
    path = Path(os.path.normpath(output / relative))
    if not path.is_relative_to(output) or path == output:
        raise OutputError(f"refusing to write {relative!r}: it is outside the output folder")
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder, then rename over the target:
    readers (and a crash) see the old file or the new one, never a truncated one.

    No fsync: it would cost more than the rest of a build, and the rename already protects
    against an interrupted process; only a power cut could lose the newest pages.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".newsgen-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def remove(output: Path, relatives: Iterable[str]) -> int:
    """Delete files that the new build no longer has, and the folders that become empty."""
    count = 0
    out = output.resolve()
    for relative in sorted(relatives):
        path = target(output, relative)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            count += 1
        parent = path.parent
        while parent != out and parent.is_relative_to(out):
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
    return count


def clean_temporaries(output: Path) -> None:
    """Temporary files a killed build left behind."""
    if output.is_dir():
        for stray in output.rglob(".newsgen-*.tmp"):
            with contextlib.suppress(OSError):
                stray.unlink()
