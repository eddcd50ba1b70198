"""write: the files newsgen keeps beside the site (urls.yaml, the search manifest, imported
articles) are replaced whole or not at all, as a reader or a crash sees them."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsgen import scaffold, search, urls, write
from newsgen.config import load_config
from tests.test_editorial import article

ROMA = (
    "Roma – Il consiglio comunale ha approvato il bilancio dopo una lunga seduta notturna. "
    "La maggioranza ha votato compatta.\n"
    "L'opposizione ha annunciato ricorso al tribunale amministrativo.\n"
)
# Smaller than anything these writers write, larger than nothing.
FILE_SIZE_LIMIT = 8


@dataclass(frozen=True)
class Writer:
    """Something that replaces one file: `prepare` lays the old file in `root` and returns
    its path; `run` writes the new one."""

    name: str
    prepare: Callable[[Path], Path]
    run: Callable[[Path], object]


def _registry(root: Path) -> Path:
    path = root / "urls.yaml"
    path.write_text('"old":\n- /articles/old/\n', encoding="utf-8")
    return path


def _save_registry(root: Path) -> object:
    return urls.save_registry(root, urls.Registry(), [article("new", "new")])


def _manifest(root: Path) -> Path:
    path = root / search.BUNDLE / search.MANIFEST
    path.parent.mkdir(parents=True)
    path.write_text('{"shards": ["old"]}\n', encoding="utf-8")
    return path


def _index(root: Path) -> object:
    return search.index_site([], lambda a: "", root, "en")


def _curated(root: Path) -> Path:
    (root / "seeds").mkdir()
    (root / "seeds" / "roma.txt").write_text(ROMA, encoding="utf-8")
    path = root / "articles" / "roma.md"
    path.parent.mkdir()
    path.write_text("---\nsource: seeds/roma.txt\ntitle: Vecchio\n---\n", encoding="utf-8")
    return path


def _import(root: Path) -> object:
    return scaffold.import_seeds(load_config(root), force=True)


WRITERS = [
    Writer("urls.yaml", _registry, _save_registry),
    Writer("search manifest", _manifest, _index),
    Writer("import", _curated, _import),
]


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.name)
def test_a_reader_of_the_old_file_reads_it_whole(writer: Writer, tmp_path: Path) -> None:
    """Replaced by a rename: a reader that opened the file before goes on reading the old
    bytes, and the new ones are a new file."""
    path = writer.prepare(tmp_path)
    old = path.read_bytes()
    files = listing(tmp_path)
    with open(path, "rb") as reader:
        writer.run(tmp_path)
        assert reader.read() == old
    assert path.read_bytes() != old
    assert listing(tmp_path) == files


@contextlib.contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """A write past `size` bytes fails with EFBIG (as on a full disk) instead of a signal."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.name)
def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_other(
    writer: Writer, tmp_path: Path
) -> None:
    # A first run elsewhere fills the caches (the language model), which the limit would
    # stop too.
    warm, site = tmp_path / "warm", tmp_path / "site"
    warm.mkdir()
    site.mkdir()
    writer.prepare(warm)
    writer.run(warm)
    path = writer.prepare(site)
    old = path.read_bytes()
    files = listing(site)
    with contextlib.suppress(write.OutputError), file_size_limit(FILE_SIZE_LIMIT):
        writer.run(site)
    assert path.read_bytes() == old
    assert listing(site) == files


def test_write_atomic_replaces_the_file_by_a_rename(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"old")
    before = path.stat().st_ino
    write.write_atomic(path, b"new")
    assert (path.read_bytes(), path.stat().st_ino != before) == (b"new", True)
    assert os.listdir(tmp_path) == ["f.txt"]


# --- the output folder's files, one call at a time ------------------------------------------

CANNOT = (
    "the pages already there were left as they were; free some space, make the folder "
    "writable, or choose another with --output"
)


def test_a_staged_file_is_invisible_until_committed(tmp_path: Path) -> None:
    page = tmp_path / "a" / "index.html"
    tmp, final = write.stage(page, b"new")
    assert (tmp, final) == (f"{tmp_path}/a/.newsgen-{os.getpid()}-index.html.tmp", str(page))
    assert (Path(tmp).read_bytes(), page.exists()) == (b"new", False)
    assert oct(Path(tmp).stat().st_mode & 0o777) == "0o644"
    write.commit([(tmp, final)])
    assert (page.read_bytes(), os.listdir(page.parent)) == (b"new", ["index.html"])


def test_put_writes_a_new_file_in_place_and_refuses_to_overwrite(tmp_path: Path) -> None:
    page = f"{tmp_path}/x/y/index.html"
    assert write.put(page, b"a" * 70_000) == (page, page)
    assert Path(page).read_bytes() == b"a" * 70_000
    assert oct(os.stat(page).st_mode & 0o777) == "0o644"
    write.commit([(page, page)])  # already in place: nothing to rename
    assert Path(page).read_bytes() == b"a" * 70_000
    with pytest.raises(write.OutputError) as caught:
        write.put(page, b"b")
    assert str(caught.value) == f"cannot write {page}: File exists; {CANNOT}"
    assert Path(page).read_bytes() == b"a" * 70_000


def test_same_bytes_compares_size_then_content(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert write.same_bytes(path, b"abc")
    assert not write.same_bytes(path, b"abd")
    assert not write.same_bytes(path, b"abcd")
    assert not write.same_bytes(tmp_path / "missing", b"")


def test_remove_deletes_files_and_the_folders_they_leave_empty(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for name in ("a/b/index.html", "a/keep.html", "c/index.html", "d/index.html"):
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(b"x")
    count = write.remove(out, ["a/b/index.html", "c/index.html", "gone/index.html"])
    assert count == 2
    assert listing(out) == ["a", "a/keep.html", "d", "d/index.html"]
    assert write.remove(out, ["a/keep.html", "d/index.html"]) == 2
    assert (out.is_dir(), listing(out)) == (True, [])


def test_temporaries_of_a_failed_build_are_cleaned_with_their_empty_folders(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (out / "b").mkdir()
    (out / "a" / ".newsgen-1-index.html.tmp").write_bytes(b"x")
    (out / "b" / ".newsgen-2-index.html.tmp").write_bytes(b"x")
    (out / "b" / "index.html").write_bytes(b"page")
    (out / ".newsgen-3-x.txt").write_bytes(b"not a temporary")
    write.clean_temporaries(out)
    assert listing(out) == [".newsgen-3-x.txt", "b", "b/index.html"]
    write.clean_temporaries(tmp_path / "missing")  # nothing to clean


def test_a_new_output_folder_is_written_beside_and_installed_whole(tmp_path: Path) -> None:
    output = tmp_path / "site" / "build"
    folder = write.open_folder(output)
    into = tmp_path / "site" / f".newsgen-{os.getpid()}-build.tmp"
    assert (folder.path, folder.into, folder.marker, folder.new) == (output, into, None, True)
    assert into.is_dir() and not output.exists()
    failure = write.OutputError(f"cannot write {into}/index.html: Disk full")
    assert str(write.relocated(failure, folder)) == f"cannot write {output}/index.html: Disk full"
    write.write_marker(folder, "build-1", ["b.html", "a.html", "bad\nname", "cr\rname"])
    write.install(folder)
    assert (output / write.MARKER).read_text() == "build-1\na.html\nb.html\n"
    assert not into.exists()
    again = write.open_folder(output)
    assert (again.into, again.marker, again.new) == (output, "build-1", False)
    assert write.relocated(failure, again) is failure
    write.install(again)  # already in place
    write.discard(again)  # never deletes the output folder itself
    assert output.is_dir()


def test_a_discarded_new_folder_leaves_nothing(tmp_path: Path) -> None:
    folder = write.open_folder(tmp_path / "build")
    (folder.into / "index.html").write_bytes(b"x")
    write.discard(folder)
    assert os.listdir(tmp_path) == []


def test_marked_files_are_the_safe_relative_paths_of_the_marker(tmp_path: Path) -> None:
    (tmp_path / write.MARKER).write_text(
        "build-2\na.html\n/etc/passwd\n../up.html\nx/../y\nx//y\n\nok/index.html\n"
    )
    assert write.marked_files(tmp_path) == {"a.html", "ok/index.html"}
    assert write.read_marker(tmp_path) == "build-2"
    assert write.marked_files(tmp_path / "missing") == set()
    assert write.read_marker(tmp_path / "missing") is None


@pytest.mark.parametrize("output", ["src", "src/build", "."])
def test_an_output_folder_overlapping_a_source_folder_is_refused(
    tmp_path: Path, output: str
) -> None:
    (tmp_path / "src").mkdir()
    with pytest.raises(write.OutputError) as caught:
        write.check_output(tmp_path / output, [tmp_path / "src", tmp_path / "other"])
    assert str(caught.value) == (
        f"output folder {tmp_path / output} overlaps source folder {tmp_path / 'src'}; "
        "choose another output folder with --output"
    )


def test_an_output_folder_beside_the_sources_is_accepted(tmp_path: Path) -> None:
    write.check_output(tmp_path / "build", [tmp_path / "src", tmp_path / "src-2"])


def test_a_page_that_cannot_be_staged_names_itself(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    page = tmp_path / "file" / "index.html"
    with pytest.raises(write.OutputError) as caught:
        write.stage(page, b"new")
    assert str(caught.value) == f"cannot write {page}: File exists; {CANNOT}"


def test_a_page_put_half_way_is_removed_and_named(tmp_path: Path) -> None:
    page = f"{tmp_path}/a/index.html"
    with pytest.raises(write.OutputError) as caught, file_size_limit(FILE_SIZE_LIMIT):
        write.put(page, b"more than eight bytes")
    assert str(caught.value) == f"cannot write {page}: File too large; {CANNOT}"
    assert listing(tmp_path) == ["a"]


def test_a_new_output_folder_may_be_deep_and_names_itself_when_it_cannot_be_made(
    tmp_path: Path,
) -> None:
    deep = write.open_folder(tmp_path / "a" / "b" / "build")
    assert deep.into.parent == tmp_path / "a" / "b"
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(write.OutputError) as caught:
        write.open_folder(tmp_path / "file" / "build")
    assert str(caught.value) == f"cannot write {tmp_path}/file/build: File exists; {CANNOT}"


def test_a_marker_is_read_as_far_as_its_first_200_bytes_and_as_utf8(tmp_path: Path) -> None:
    (tmp_path / write.MARKER).write_bytes(b"b" * 300 + b"\nok\xff.html\n")
    assert write.read_marker(tmp_path) == "b" * 200
    assert write.marked_files(tmp_path) == {"ok\ufffd.html"}


def test_the_root_folder_holds_its_files() -> None:
    assert write.target_path(Path("/"), "a/index.html") == "/a/index.html"


def test_only_new_folders_of_dead_builds_are_removed(tmp_path: Path) -> None:
    output = tmp_path / "my-build"
    # A live process of the test's own (never init: a mutant of the check may signal it).
    with subprocess.Popen(["sleep", "600"]) as alive:
        try:
            dead = 2**22 + 1  # above any pid Linux gives
            for pid in (dead, alive.pid):
                (tmp_path / f".newsgen-{pid}-my-build.tmp").mkdir()
            folder = write.open_folder(output)
        finally:
            alive.kill()
    assert set(os.listdir(tmp_path)) == {
        f".newsgen-{os.getpid()}-my-build.tmp",
        f".newsgen-{alive.pid}-my-build.tmp",
    }
    assert folder.into == tmp_path / f".newsgen-{os.getpid()}-my-build.tmp"


def test_a_marker_rewritten_keeps_its_list_and_changes_its_first_line(tmp_path: Path) -> None:
    folder = write.Folder(path=tmp_path, into=tmp_path, marker=None)
    assert not write.rewrite_marker(folder, "b")  # no marker to keep
    write.write_marker(folder, "a", ["z.html", "feed.xml", "a/index.html"])
    assert write.rewrite_marker(folder, "b")
    written = (tmp_path / write.MARKER).read_text(encoding="utf-8")
    assert written == "b\na/index.html\nfeed.xml\nz.html\n"
    assert write.rewrite_marker(folder, "longer")  # another length: the file written anew
    written = (tmp_path / write.MARKER).read_text(encoding="utf-8")
    assert written == "longer\na/index.html\nfeed.xml\nz.html\n"


def test_a_marker_of_the_same_length_is_written_over_the_old_one_in_place(
    tmp_path: Path,
) -> None:
    folder = write.Folder(path=tmp_path, into=tmp_path, marker=None)
    write.write_marker(folder, "a" * 64, ["feed.xml", "a/index.html"])
    inode = (tmp_path / write.MARKER).stat().st_ino
    assert write.rewrite_marker(folder, "b" * 64)
    assert (tmp_path / write.MARKER).stat().st_ino == inode
    written = (tmp_path / write.MARKER).read_text(encoding="utf-8")
    assert written == "b" * 64 + "\na/index.html\nfeed.xml\n"
    assert write.read_marker(tmp_path) == "b" * 64


def test_a_marker_with_another_name_is_written_anew_and_the_other_keeps_the_old(
    tmp_path: Path,
) -> None:
    """A copy of the output made with hard links (`cp -al`) keeps its own marker."""
    folder = write.Folder(path=tmp_path, into=tmp_path, marker=None)
    write.write_marker(folder, "a" * 64, ["feed.xml"])
    os.link(tmp_path / write.MARKER, tmp_path / "backup")
    assert write.rewrite_marker(folder, "b" * 64)
    assert (tmp_path / "backup").read_text(encoding="utf-8") == "a" * 64 + "\nfeed.xml\n"
    assert (tmp_path / write.MARKER).read_text(encoding="utf-8") == "b" * 64 + "\nfeed.xml\n"


def test_a_marker_of_many_files_is_written_in_parts_the_same_text(tmp_path: Path) -> None:
    """Written a few thousand lines at a time (as one text, the marker of 1,000,000 articles
    was a string of 97 MB and as many bytes again): the file is the one text it would be."""
    folder = write.Folder(path=tmp_path, into=tmp_path, marker=None)
    names = [f"articles/{n}/index.html" for n in range(2 * write.MARKER_LINES + 1)]
    write.write_marker(folder, "abc", reversed([*names, "bad\nname"]))
    assert (tmp_path / write.MARKER).read_text() == "\n".join(["abc", *sorted(names)]) + "\n"
    assert write.marked_files(tmp_path) == set(names)
    write.write_marker(folder, "def", [])
    assert (tmp_path / write.MARKER).read_text() == "def\n"
