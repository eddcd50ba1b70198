"""Stage 5, write: bytes into the output folder, never half-written, never outside it.

A first build writes into a new folder beside the output folder and renames it into place
once complete: a failed one leaves no output folder, not half of one. Later builds replace
files one by one, each renamed into place once every new file is written.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

TEMP_PREFIX = ".newsgen-"
TEMP_SUFFIX = ".tmp"
# In every output folder: which build wrote it (see Folder), so that a cache never trusts
# its record of another folder.
MARKER = ".newsgen"


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
    """`output/relative`, refusing anything that would land outside `output`."""
    return Path(target_path(output, relative))


def target_path(output: Path, relative: str) -> str:
    """`target` as a string: pure string arithmetic, for the path of every page (no
    `resolve()`, which costs a system call per path component: the output folder is
    newsgen's own, so no input can plant a link in it; and no pathlib objects)."""
    base = os.fspath(output)
    path = os.path.normpath(os.path.join(base, relative))
    if not path.startswith(base.rstrip(os.sep) + os.sep):
        raise OutputError(f"refusing to write {relative!r}: it is outside the output folder")
    return path


Staged = tuple[str, str]  # (temporary file, final path)

# Precompressed beside themselves (`compress: true`): the text files a browser loads.
COMPRESSIBLE = (".html", ".css", ".js", ".mjs", ".json", ".xml", ".xsl", ".svg")
try:  # optional (pip install 'newsgen[brotli]'): without it, .gz files only
    import brotli  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - the test extra installs it
    brotli = None
# Brotli's quality 11 takes a second per megabyte: 5 compresses better than gzip -9 at
# gzip's speed, and a cold build of 10,000 articles stays within seconds of one without.
BROTLI_QUALITY = 5


def compressed(name: str, data: bytes) -> list[tuple[str, bytes]]:
    """The precompressed copies of a file named `name` (suffix, bytes): none unless it is
    COMPRESSIBLE. The same bytes always give the same copies (gzip's time field is 0)."""
    if not name.endswith(COMPRESSIBLE):
        return []
    copies = [(".gz", gzip.compress(data, compresslevel=9, mtime=0))]
    if brotli is not None:
        copies.append((".br", brotli.compress(data, quality=BROTLI_QUALITY)))
    return copies


def compressed_suffixes(name: str) -> tuple[str, ...]:
    """The suffixes of the copies `compressed` makes of a file named `name`."""
    if not name.endswith(COMPRESSIBLE):
        return ()
    return (".gz", ".br") if brotli is not None else (".gz",)


def stage(path: Path | str, data: bytes) -> Staged:
    """Write `data` to a temporary file beside `path`; `commit` renames it into place (see
    `stage_parts`)."""
    return stage_parts(path, (data,))


def stage_parts(path: Path | str, parts: Iterable[bytes]) -> Staged:
    """Write `parts`, one after another, to a temporary file beside `path`; `commit` renames
    it into place.

    Nothing a reader sees changes until the commit, so a build that fails half-way (a full
    disk, a read-only folder, a kill) leaves the previous site as it was. No fsync: it would
    cost more than the rest of a build, and the rename already protects against an
    interrupted process; only a power cut could lose the newest pages.
    """
    # Named by process and target rather than by mkstemp: a page is written by one process
    # of one build, and this saves mkstemp's retries and a chmod on every page.
    path = os.fspath(path)
    parent, name = os.path.split(path)
    tmp = f"{parent}/{TEMP_PREFIX}{os.getpid()}-{name}{TEMP_SUFFIX}"
    try:
        os.makedirs(parent, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except OSError as exc:
        raise _cannot_write(Path(path), exc) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in parts:
                handle.write(part)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _cannot_write(Path(path), exc) from exc
        raise
    return tmp, path


def put(path: str, data: bytes) -> Staged:
    """Write `data` straight to `path`, where no file is (a new output folder); `commit`
    leaves it as it is."""
    # Plain system calls: a cold build writes every page this way, and `makedirs` and
    # `open`'s buffered file objects cost twice what the writing itself does on a fast disk.
    try:
        _folder(os.path.dirname(path))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        raise _cannot_write(Path(path), exc) from exc
    try:
        write_all(fd, data)
    except BaseException as exc:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)  # made by this call (O_EXCL): never leave a page half-written
        if isinstance(exc, OSError):
            raise _cannot_write(Path(path), exc) from exc
        raise
    os.close(fd)
    return path, path


def write_all(fd: int, data: bytes) -> None:
    """All of `data` to the open file `fd` (os.write may write less than it is given)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _folder(path: str) -> None:
    """Make folder `path`; usually its parent is there already."""
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(path, exist_ok=True)


def commit(staged: Iterable[Staged]) -> None:
    """Rename staged files into place: each reader sees the old file or the new one."""
    pending = [(tmp, path) for tmp, path in staged if tmp != path]  # `put` wrote in place
    for done, (tmp, path) in enumerate(pending):
        try:
            os.replace(tmp, path)
        except OSError as exc:
            _discard(tmp for tmp, _ in pending[done:])
            raise (
                _cannot_write(Path(path), exc) if not done else _partly(path, exc, done)
            ) from exc


def _discard(temporaries: Iterable[str]) -> None:
    """Remove the temporary files a failed commit will never rename."""
    for tmp in temporaries:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def write_atomic(path: Path, data: bytes) -> None:
    """Readers (and a crash) see the old file or the new one, never a truncated one."""
    commit([stage(path, data)])


def _cannot_write(path: Path, exc: OSError) -> OutputError:
    why = exc.strerror or str(exc)
    return OutputError(
        f"cannot write {path}: {why}; the pages already there were left as they were; "
        "free some space, make the folder writable, or choose another with --output"
    )


def _partly(path: str, exc: OSError, done: int) -> OutputError:
    why = exc.strerror or str(exc)
    files = "1 file" if done == 1 else f"{done} files"
    return OutputError(
        f"cannot write {path}: {why}; {files} of this build were already put in place, the "
        "others are as they were; free some space or make the folder writable, then build "
        "again to complete the site"
    )


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
        if not _inside(relative):
            continue  # a damaged record: newsgen never wrote there, so never removes it
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


@dataclass(frozen=True, slots=True)
class Clock:
    """A file system's time, read from a probe file (see fs_clock); no device when none
    could be made."""

    device: int = -1
    time: int = 0


def fs_clock(folder: Path | str) -> Clock:
    """The time the file system holding `folder` gives a change made now, read from a probe
    file made and removed there (see settled)."""
    probe = f"{folder}/{TEMP_PREFIX}clock{TEMP_SUFFIX}"
    for _ in range(2):
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:  # left by a process killed before it removed it
            with contextlib.suppress(OSError):
                os.unlink(probe)
            continue
        except OSError:
            return Clock()
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(probe)
        return Clock(device=st.st_dev, time=st.st_mtime_ns)
    return Clock()


# Where no probe tells (another file system, or none could be made), a folder has settled
# once it changed this long ago by the machine's clock (FAT's ticks every 2 s).
SETTLED_NS = 2_000_000_000


def settled(st: os.stat_result, clock: Clock) -> bool:
    """Whether a folder with status `st` has settled, so that any change from now on must
    change its times: it last changed before `clock`, on the same file system (the racy-
    index rule of Git). Judged by the file system's clock, not the machine's: it ticks
    coarser (ext4 by a few milliseconds) and may be another machine's (NFS)."""
    changed = max(st.st_mtime_ns, st.st_ctime_ns)
    if st.st_dev == clock.device:
        return changed < clock.time
    return time.time_ns() - changed >= SETTLED_NS


def folder_stamp(folder: Path | str, clock: Clock) -> tuple[str, bool]:
    """What tells a folder's later changes apart: its device, inode and change times ("" when
    there is no folder); and whether it settled by `clock` (see settled)."""
    try:
        st = os.stat(folder)
    except OSError:
        return "", False
    return f"{st.st_dev}:{st.st_ino}:{st.st_mtime_ns}:{st.st_ctime_ns}", settled(st, clock)


def settled_stamp(folder: Path | str, clock: Clock) -> str:
    """The folder's stamp when it settled by `clock`, else "" (its next check lists it)."""
    stamp, done = folder_stamp(folder, clock)
    return stamp if done else ""


def clean_temporaries(output: Path) -> None:
    """Temporary files a killed or failed build left behind, and the folders that held only
    them."""
    if not output.is_dir():
        return
    # Listed first: removing a folder while rglob walks it would make rglob fail.
    for stray in list(output.rglob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}")):
        with contextlib.suppress(OSError):
            stray.unlink()
        with contextlib.suppress(OSError):
            stray.parent.rmdir()


# --- the output folder as a whole -----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Folder:
    """An output folder as a build finds it.

    The build writes into `into`: the folder itself, or, when there was none, a new folder
    beside it that `install` renames into place. `marker` is the first line of the folder's
    marker file (None when it has none: someone else made the folder). The marker file says
    which build wrote the folder (a hash of its content) and lists the files newsgen wrote
    in it. The cache records the marker it wrote: a folder with another one was copied,
    restored or written by another copy of the site, and the cache's record of its files
    does not hold; the marker's list still says which files are newsgen's to remove."""

    path: Path
    into: Path
    marker: str | None

    @property
    def new(self) -> bool:
        return self.into != self.path


def open_folder(output: Path) -> Folder:
    """The output folder as it is; when there is none, a new folder to write it in."""
    if output.is_dir():
        return Folder(path=output, into=output, marker=read_marker(output))
    if os.path.lexists(output):
        raise OutputError(
            f"output folder {output} is not a folder; move it away or choose another folder "
            "with --output"
        )
    _remove_abandoned(output)
    into = Path(f"{output.parent}/{TEMP_PREFIX}{os.getpid()}-{output.name}{TEMP_SUFFIX}")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        into.mkdir()
    except OSError as exc:
        raise _cannot_write(output, exc) from exc
    return Folder(path=output, into=into, marker=None)


def read_marker(output: Path) -> str | None:
    try:
        with open(output / MARKER, "rb") as handle:
            return handle.readline(200).decode(errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return ""  # newsgen's, though unreadable: known to no cache


def marked_files(output: Path) -> set[str]:
    """The files the marker of `output` lists (relative paths), those that can be paths in
    it; none when it cannot be read."""
    try:
        lines = (output / MARKER).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return set()
    return {line for line in lines[1:] if _inside(line)}


def _inside(relative: str) -> bool:
    parts = relative.split("/")
    return bool(relative) and not relative.startswith("/") and ".." not in parts and "" not in parts


def write_marker(folder: Folder, marker: str, files: Iterable[str]) -> None:
    """Mark the folder as written by the build `marker`, holding newsgen's `files`. (A
    path with a line break cannot be listed; URLs never make one.)"""
    listed = sorted(f for f in files if "\n" not in f and "\r" not in f)
    commit([stage_parts(folder.into / MARKER, _marker_parts(marker, listed))])


def _marker_parts(marker: str, listed: list[str]) -> Iterator[bytes]:
    """The marker file's lines, a few thousand at a time: as one text, the marker of
    1,000,000 articles was a string of 97 MB and as many bytes again, at the build's end."""
    yield f"{marker}\n".encode()
    for start in range(0, len(listed), MARKER_LINES):
        yield "".join(f"{name}\n" for name in listed[start : start + MARKER_LINES]).encode()


MARKER_LINES = 10_000


def rewrite_marker(folder: Folder, marker: str) -> bool:
    """Mark the folder as written by the build `marker`, keeping the files its marker
    lists now (a rebuild that made no new file: sorting the names of 120,000 files again
    took a sixth of a second); False when there is no marker to keep. A marker as long as
    the one there is written over it, in the file's first sector, which a crash leaves old
    or new (the marker of 1,000,000 articles lists 1.2 million files: 97 MB, which took
    half a second to write again for its first line); not when the file has another name
    (a hard link: a copy made with `cp -al` keeps its own marker) or is a link."""
    path = folder.into / MARKER
    line = marker.encode()
    try:
        with open(os.open(path, os.O_RDWR | os.O_NOFOLLOW), "r+b") as handle:
            head = handle.readline(200)
            alone = os.fstat(handle.fileno()).st_nlink == 1
            if alone and len(head) == len(line) + 1 and head.endswith(b"\n"):
                handle.seek(0)
                handle.write(line)
                return True
            _, newline, listed = (head + handle.read()).partition(b"\n")
    except OSError:
        return False
    if not newline:
        return False
    write_atomic(path, line + newline + listed)
    return True


def install(folder: Folder) -> None:
    """Rename a new output folder into place."""
    if not folder.new:
        return
    try:
        os.rename(folder.into, folder.path)
    except OSError as exc:
        raise _cannot_write(folder.path, exc) from exc


def discard(folder: Folder) -> None:
    """Delete the new folder of a build that did not install it."""
    if folder.new:
        shutil.rmtree(folder.into, ignore_errors=True)


def relocated(exc: OutputError, folder: Folder) -> OutputError:
    """`exc` naming the output folder instead of the new folder it was written in."""
    if not folder.new:
        return exc
    return OutputError(str(exc).replace(os.fspath(folder.into), os.fspath(folder.path)))


def _remove_abandoned(output: Path) -> None:
    """New folders for `output` that killed builds left beside it."""
    pattern = f"{glob.escape(str(output.parent))}/{TEMP_PREFIX}*-{glob.escape(output.name)}"
    for path in glob.glob(pattern + TEMP_SUFFIX):
        pid = os.path.basename(path)[len(TEMP_PREFIX) :].partition("-")[0]
        if pid.isdigit() and not running(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def running(pid: int) -> bool:
    """Whether process `pid` is alive (for files named by the process that writes them)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process
    return True
