"""What many tests do: read a built folder's bytes, build a site again from nothing, run
newsgen in this process or in another, and build inside a private mount namespace."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import pytest

from newsgen import write
from newsgen.cache import Cache
from newsgen.cli import main
from newsgen.write import fs_clock
from tests.conftest import REPO, build_site

VNU = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# The W3C Nu HTML checker; without -XX:-UsePerfData the JVM leaves /tmp/hsperfdata_<user>.
VNU_COMMAND = ("java", "-XX:-UsePerfData", "-jar", str(VNU))

# A process that hangs fails its test instead of the whole run.
PROCESS_TIMEOUT = 600


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below `folder`, by its path relative to it, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def differing(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    """The files that only one snapshot holds, or that the two hold with other bytes."""
    return sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))


def copy_inputs(site: Path, destination: Path) -> Path:
    """The site folder without its cache and output: what a clean build starts from."""
    shutil.copytree(site, destination, ignore=shutil.ignore_patterns("build", ".newsgen"))
    return destination


def clean_build(site: Path, where: Path) -> dict[str, bytes]:
    """What a build of the same inputs from nothing writes (made in `where`/clean)."""
    config, _ = build_site(copy_inputs(site, where / "clean"))
    return snapshot(config.output_dir)


def age_sources(site: Path, seconds: int = 3600) -> None:
    """Move the modification time of every source file `seconds` back: a file changed in
    the last two seconds is never trusted by its status alone (see newsgen.collect.RACY_NS),
    and a build only skips the scan of sources that none of them is (Listing's mark)."""
    for folder in ("seeds", "articles"):
        for path in sorted((site / folder).glob("*")):
            status = path.stat()
            back = status.st_mtime_ns - seconds * 1_000_000_000
            os.utime(path, ns=(status.st_atime_ns, back))


def constant_time(text: str) -> str:
    """`text` with the time in a build's summary line made constant."""
    return re.sub(r"in \d+\.\d\d s;", "in 0.00 s;", text)


class Ran(NamedTuple):
    """What `newsgen` did in this process: exit code, stdout, stderr (the build time made
    constant)."""

    code: int
    out: str
    err: str

    def lines(self) -> tuple[int, list[str], list[str]]:
        return self.code, self.out.splitlines(), self.err.splitlines()


def in_process(*args: str) -> Ran:
    """`newsgen ARGS`, run by newsgen.cli.main in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Ran(code, out.getvalue(), constant_time(err.getvalue()))


def in_subprocess(
    *args: str, before: Sequence[str] = (), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`newsgen ARGS` run by this Python in a new process, after the command `before` (such
    as setpriv), in the environment `env` (by default this one's); the build time in its
    stderr made constant."""
    done = subprocess.run(
        [*before, sys.executable, "-m", "newsgen", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=PROCESS_TIMEOUT,
        env=env,
    )
    done.stderr = constant_time(done.stderr)
    return done


def start(*args: str) -> subprocess.Popen[str]:
    """`newsgen ARGS` started in a session of its own (a kill of the session ends its workers
    too); stderr is a pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", "newsgen", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def can_mount() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(
    not can_mount(), reason="unshare -m cannot mount here (needs CAP_SYS_ADMIN)"
)


def build_in_namespace(
    site: Path, prepare: str, *args: str, then: str = ":", **env: str
) -> subprocess.CompletedProcess[str]:
    """In a private mount namespace (its mounts end with it), run the shell commands
    `prepare` (which mount something), `newsgen build --site SITE ARGS`, then `then`. The
    shell sees $SITE, $PY (this Python) and `env`. The exit code is the build's, or that of
    the first command that failed around it; the build time in stderr is made constant."""
    script = (
        f'{{ {prepare}; }} || exit $?; code=0; "$PY" -m newsgen build --site "$SITE" "$@" '
        f"|| code=$?; {{ {then}; }} || exit $?; exit $code"
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=PROCESS_TIMEOUT,
        env={**os.environ, **env, "SITE": str(site), "PY": sys.executable},
    )
    done.stderr = constant_time(done.stderr)
    return done


# How long a test waits for the file system's clock to tick.
TICK_DEADLINE = 30.0


def next_tick(probe_dir: Path, folder: Path) -> None:
    """Wait until the file system's clock has moved past `folder`'s last change (a probe
    file in `probe_dir` tells): a change within the same tick would keep its times, what
    newsgen.write.settled guards against. (The real clock, even where a test has made
    builds wait with settle_outputs.)"""
    st = folder.stat()
    _clock_past(probe_dir, max(st.st_mtime_ns, st.st_ctime_ns))


def _clock_past(probe_dir: Path, changed: int) -> write.Clock:
    """The file system's clock read in `probe_dir` (by the real `fs_clock`, which
    settle_outputs replaces in newsgen.write) once it is past `changed`."""
    deadline = time.monotonic() + TICK_DEADLINE
    while (clock := fs_clock(probe_dir)).time <= changed:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    return clock


def settle_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every build's output folders settle before their stamps are taken: its
    `write.fs_clock` first waits for the file system's clock to tick past the last change
    of each folder in the output (a small site's folders are otherwise written within the
    tick in which the build takes their stamps, and the next build would list them)."""

    def settling(output: Path) -> write.Clock:
        if not output.is_dir():
            return fs_clock(output)
        folders = [output, *(p for p in output.rglob("*") if p.is_dir() and not p.is_symlink())]
        newest = max(max(st.st_mtime_ns, st.st_ctime_ns) for st in map(os.stat, folders))
        return _clock_past(output, newest)

    monkeypatch.setattr(write, "fs_clock", settling)


@contextlib.contextmanager
def site_cache(site: Path) -> Iterator[Cache]:
    """The site's build cache, open for the block, committed and closed after it."""
    cache = Cache(site / ".newsgen" / "cache.sqlite")
    try:
        yield cache
    finally:
        cache.close()
