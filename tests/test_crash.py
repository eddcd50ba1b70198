"""Crash safety: a build killed with SIGKILL, a full disk or a read-only output folder never
leaves a truncated page; the old site stays as it was, and the next build repairs everything,
byte for byte the same as a clean build.

Kills are real: `python -m newsgen build` runs in its own session, the test polls the output
folder (every 10 ms, with a deadline; never one fixed wait) until the build has staged a number of
files, then SIGKILLs the whole session, worker processes included. A full disk is a real
tmpfs of a fixed size and a read-only folder a real read-only bind mount, both mounted inside
a private mount namespace made with `unshare -m` (the tests run as root, where `chmod` stops
nothing); where `unshare` cannot mount, those tests are skipped and say so.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from newsgen.build import build
from newsgen.config import load_config
from newsgen.plan import Page
from newsgen.publish import Renderer
from newsgen.write import MARKER, OutputError, Staged, stage
from tests.conftest import MakeSite, build_site
from tests.util import (
    build_in_namespace,
    differing,
    in_subprocess,
    needs_mounts,
    snapshot,
    start,
)

ARTICLES = 240
TEMP = (".newsgen-", ".tmp")


def corpus(version: str) -> dict[str, str]:
    """The same articles in two versions: B changes every text, drops three articles and
    adds three, so a build of B rewrites, creates and removes pages."""
    numbers = range(ARTICLES) if version == "A" else range(3, ARTICLES + 3)
    files = {
        f"seeds/{n:03d}_{n:016x}.txt": (
            f"Titolo numero {n}\n\nRoma – Il testo dell'articolo {n}, versione {version}, "
            "abbastanza lungo per una pagina vera con un riassunto e un paragrafo.\n"
            f"Un secondo paragrafo dell'articolo {n}.\n"
        )
        for n in numbers
    }
    return {**files, "newsgen.yaml": "title: Prova di crash\nlanguage: it\nper_page: 10\n"}


def temporaries(output: Path) -> list[str]:
    """Temporary files now in `output`. os.walk, unlike rglob, shrugs off a folder that the
    build removes while it is being walked."""
    return [
        name
        for _, _, names in os.walk(output)
        for name in names
        if name.startswith(TEMP[0]) and name.endswith(TEMP[1])
    ]


def write_inputs(site: Path, files: dict[str, str]) -> None:
    shutil.rmtree(site / "seeds")
    for name, text in files.items():
        path = site / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    """Clean builds of A and of B, each in a fresh site with a fresh cache."""
    found = {}
    for version in ("A", "B"):
        site = tmp_path_factory.mktemp(f"clean{version}") / "site"
        write_inputs_fresh(site, corpus(version))
        config, _ = build_site(site)
        found[version] = snapshot(config.output_dir)
    return found


def write_inputs_fresh(site: Path, files: dict[str, str]) -> None:
    (site / "seeds").mkdir(parents=True)
    write_inputs(site, files)


@pytest.fixture
def site_at_a(make_site: MakeSite) -> Path:
    site = make_site(corpus("A"))
    build_site(site)
    write_inputs(site, corpus("B"))
    return site


def start_build(site: Path) -> subprocess.Popen[str]:
    return start("build", "--site", str(site), "--jobs", "2", "-q")


def kill_after_staged(site: Path, count: int) -> None:
    """Start a build, SIGKILL its whole session once `count` files are staged."""
    build = start_build(site)
    deadline = time.monotonic() + 300
    try:
        while len(temporaries(site / "build")) < count:
            assert build.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "the build never staged enough files"
            time.sleep(0.01)
    finally:
        os.killpg(build.pid, signal.SIGKILL)
        build.communicate()
    assert build.returncode == -signal.SIGKILL


def assert_same(folder: Path, expected: dict[str, bytes]) -> None:
    """`folder` holds exactly the files of `expected`; a failure names the files that differ
    and shows the first line where the first of them does (a whole site's dump says neither)."""
    found = snapshot(folder)
    names = differing(found, expected)
    assert names == [], (
        f"{len(names)} files differ: {names[:20]}; {first_difference(found, expected, names[0])}"
    )


def first_difference(found: dict[str, bytes], expected: dict[str, bytes], name: str) -> str:
    if name not in found or name not in expected:
        return f"{name} is {'missing' if name not in found else 'not expected'}"
    got, wanted = found[name].splitlines(), expected[name].splitlines()
    for line, (mine, theirs) in enumerate(zip(got, wanted, strict=False), 1):
        if mine != theirs:
            return f"{name} line {line}: {mine[:300]!r} instead of {theirs[:300]!r}"
    if len(got) != len(wanted):
        return f"{name}: {len(got)} lines instead of {len(wanted)}, the shared ones alike"
    return f"{name}: the same lines, other line endings"


def assert_whole(output: Path, old: dict[str, bytes], new: dict[str, bytes]) -> None:
    """Every page is the old version or the new one; a leftover temporary file is never
    named like a page. The marker says which build wrote the folder (the old one until the
    new one is complete) and lists every file either may have left."""
    for name, data in snapshot(output).items():
        if name == MARKER:
            assert data in (old[MARKER], new[MARKER]) or _lists_both(data, old, new)
            continue
        if Path(name).name.startswith(TEMP[0]):
            assert name.endswith(TEMP[1])
            continue
        assert data in (old.get(name), new.get(name)), f"{name} is neither version"


def _lists_both(marker: bytes, old: dict[str, bytes], new: dict[str, bytes]) -> bool:
    """The marker of the old build, listing the files of both."""
    first, *listed = marker.decode().splitlines()
    pages = {n for n in (*old, *new) if n != MARKER and not n.startswith("pagefind/")}
    return first == old[MARKER].decode().splitlines()[0] and set(listed) == pages


def assert_old_or_all_staged(output: Path, old: dict[str, bytes], new: dict[str, bytes]) -> None:
    """A kill before every new file is staged leaves the old site exactly as it was. The kill
    comes some milliseconds after the count is seen, so the build may have staged the rest and
    begun renaming by then: if any page is new, every changed page must be new already or
    have its staged file beside it, since renaming starts only once all are staged."""
    now = snapshot(output)
    pages = {k: v for k, v in now.items() if not k.endswith(TEMP[1])}
    if pages == old:
        return
    staged = {_target(name) for name in now if name.endswith(TEMP[1])}
    changed = {
        name
        for name, data in new.items()
        if old.get(name) != data and name != MARKER and not name.startswith("pagefind/")
    }
    assert changed <= staged | {name for name in changed if pages.get(name) == new[name]}


def _target(temporary: str) -> str:
    """The page a staged file `.newsgen-<pid>-<name>.tmp` will be renamed to."""
    folder, _, name = temporary.rpartition("/")
    name = name.removeprefix(TEMP[0]).removesuffix(TEMP[1]).split("-", 1)[1]
    return f"{folder}/{name}" if folder else name


def test_three_kills_then_a_rebuild_equal_a_clean_build(
    site_at_a: Path, versions: dict[str, dict[str, bytes]]
) -> None:
    old, new = versions["A"], versions["B"]
    # Pages are staged, then renamed; the search index is written after them, shard by shard.
    pages = sum(1 for name in new if not name.startswith("pagefind/"))
    output = site_at_a / "build"
    for count in (1, pages // 3, 2 * pages // 3):
        kill_after_staged(site_at_a, count)
        assert_whole(output, old, new)
        assert_old_or_all_staged(output, old, new)
    done = in_subprocess("build", "--site", str(site_at_a), "-q")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert_same(output, new)
    assert temporaries(output) == []


def test_a_kill_while_pages_are_renamed_leaves_each_page_whole(
    site_at_a: Path, versions: dict[str, dict[str, bytes]]
) -> None:
    """The commit renames files one by one: a kill there leaves old and new pages, never a
    broken one. The kill comes as soon as the front page changes, so it may land after the
    last rename; what the test asserts holds either way."""
    old, new = versions["A"], versions["B"]
    output = site_at_a / "build"
    front = output / "index.html"
    before = front.stat().st_ino
    build = start_build(site_at_a)
    deadline = time.monotonic() + 300
    try:
        while front.stat().st_ino == before and build.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        os.killpg(build.pid, signal.SIGKILL)
        build.communicate()
    assert_whole(output, old, new)
    _, result = build_site(site_at_a)
    assert result.problems == ()
    assert_same(output, new)


def test_a_first_build_killed_leaves_no_output_folder_and_the_next_one_cleans_up(
    make_site: MakeSite, versions: dict[str, dict[str, bytes]]
) -> None:
    """A first build writes into a new folder beside the output folder: killed half-way,
    it leaves that folder (named as killed builds' files are), never a half-written
    output folder; the next build removes it."""
    site = make_site(corpus("A"))
    build = start_build(site)
    deadline = time.monotonic() + 300
    beside: list[Path] = []
    try:
        while not beside or sum(1 for _ in beside[0].rglob("index.html")) < 50:
            assert build.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "the build never wrote enough pages"
            beside = [p for p in site.iterdir() if p.name.startswith(TEMP[0])]
            time.sleep(0.01)
    finally:
        os.killpg(build.pid, signal.SIGKILL)
        build.communicate()
    assert not (site / "build").exists()
    assert [p.name for p in beside] == [f"{TEMP[0]}{build.pid}-build{TEMP[1]}"]
    build_site(site)
    assert_same(site / "build", versions["A"])
    assert [p.name for p in site.iterdir() if p.name.startswith(TEMP[0])] == []


def test_a_worker_still_writing_when_another_fails_leaves_no_temporary_file(
    site_at_a: Path, versions: dict[str, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs anywhere: when one render worker fails (here as on a full disk), the other may be
    half-way through its span; the build waits for it before removing what was staged, so
    no staged file stays behind (CI once found one after a full disk, a race no kill test
    hits). The worker that fails draws the listings, the first span; the other stages its
    file after the failure has reached the parent."""

    def packed(renderer: Renderer, pages: Sequence[Page]) -> tuple[list[Staged], set[str]]:
        if any(page.article is None for page in pages):
            raise OutputError("cannot write the front page: No space left on device")
        time.sleep(1)
        return [stage(renderer.output / "late.html", b"late")], set()

    monkeypatch.setattr(Renderer, "packed", packed)
    output = site_at_a / "build"
    with pytest.raises(OutputError, match="No space left on device"):
        build(load_config(site_at_a, {}), jobs=2)
    assert temporaries(output) == []
    assert_same(output, versions["A"])


# --- full disk and read-only output, in a private mount namespace -------------------------


def build_over_mount(site: Path, prepare: str, after: Path) -> subprocess.CompletedProcess[str]:
    """Run `prepare` (mount something over $OUT, `site/build`; $SAVED holds its old
    contents), build, and copy what the build left into `after`."""
    output = site / "build"
    saved = site.parent / "saved"
    shutil.copytree(output, saved)
    after.mkdir()
    return build_in_namespace(
        site,
        prepare,
        "-q",
        then='cp -a "$OUT"/. "$AFTER"/',
        SAVED=str(saved),
        OUT=str(output),
        AFTER=str(after),
    )


def kib_used(files: dict[str, bytes]) -> int:
    return sum(-(-len(data) // 4096) * 4 for data in files.values())


def error_line(stderr: str, output: Path, why: str) -> None:
    (line,) = stderr.splitlines()
    assert line.startswith(f"Error: cannot write {output}/")
    assert line.endswith(
        f": {why}; the pages already there were left as they were; free some space, make "
        "the folder writable, or choose another with --output"
    )


@needs_mounts
def test_a_full_disk_is_a_clear_error_and_the_old_site_stays(
    site_at_a: Path, versions: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    old = versions["A"]
    # Room for the old site and a third of the new one: the build runs out of space.
    size = kib_used(old) * 4 // 3
    prepare = f'mount -t tmpfs -o size={size}k tmpfs "$OUT" && cp -a "$SAVED"/. "$OUT"/'
    done = build_over_mount(site_at_a, prepare, tmp_path / "after")
    assert done.returncode == 1, done.stderr
    error_line(done.stderr, site_at_a / "build", "No space left on device")
    assert_same(tmp_path / "after", old)
    build_site(site_at_a)  # with room again, the next build completes the site
    assert_same(site_at_a / "build", versions["B"])


@needs_mounts
def test_a_full_disk_on_a_first_build_leaves_no_output_folder(
    make_site: MakeSite, versions: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    """A first build writes into a new folder beside the output folder and renames it into
    place once complete: when the disk fills up, neither folder is left, and the error names
    the output folder."""
    site = make_site(corpus("A"))
    disk, after = tmp_path / "disk", tmp_path / "after"
    disk.mkdir()
    after.mkdir()
    size = kib_used(versions["A"]) // 3
    done = build_in_namespace(
        site,
        f'mount -t tmpfs -o size={size}k tmpfs "$DISK"',
        "--output",
        str(disk / "site"),
        "-q",
        then='cp -a "$DISK"/. "$AFTER"/',
        DISK=str(disk),
        AFTER=str(after),
    )
    assert done.returncode == 1, done.stderr
    error_line(done.stderr, disk / "site", "No space left on device")
    assert list(after.iterdir()) == []


@needs_mounts
def test_a_read_only_output_is_a_clear_error_and_the_old_site_stays(
    site_at_a: Path, versions: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    old = versions["A"]
    prepare = 'mount --bind "$OUT" "$OUT" && mount -o remount,ro,bind "$OUT"'
    done = build_over_mount(site_at_a, prepare, tmp_path / "after")
    assert done.returncode == 1, done.stderr
    error_line(done.stderr, site_at_a / "build", "Read-only file system")
    assert_same(tmp_path / "after", old)


def test_a_file_where_a_folder_must_go_is_a_clear_error(
    site_at_a: Path, versions: dict[str, dict[str, bytes]]
) -> None:
    """Runs anywhere: a file named like the folder of a new article blocks it."""
    output = site_at_a / "build"
    blocker = output / "articles" / "titolo-numero-240"
    blocker.write_text("in the way")
    old = snapshot(output)
    done = in_subprocess("build", "--site", str(site_at_a), "-q")
    assert done.returncode == 1
    assert done.stderr == (
        f"Error: cannot write {blocker}/index.html: File exists; the pages already there were "
        "left as they were; free some space, make the folder writable, or choose another "
        "with --output\n"
    )
    assert_same(output, old)
    blocker.unlink()
    build_site(site_at_a)
    assert_same(output, versions["B"])
