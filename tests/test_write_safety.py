"""The output folder's guards: nothing is written or removed outside it, and a build whose
files cannot be put in place says which one and why, and leaves no temporary file."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from newsgen.build import build
from newsgen.config import load_config
from newsgen.records import Problem
from newsgen.write import (
    MARKER,
    OutputError,
    commit,
    marked_files,
    read_marker,
    stage,
    target,
    target_path,
)
from tests.conftest import MakeSite, build_site
from tests.util import snapshot

ROMA = "Roma – Il consiglio comunale ha approvato il bilancio dopo una lunga seduta.\n"
MILANO = "Milano – La giunta ha presentato il nuovo piano dei trasporti pubblici.\n"
CANNOT = (
    "the pages already there were left as they were; free some space, make the folder "
    "writable, or choose another with --output"
)


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".newsgen-*"))


# --- containment ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "relative",
    [
        "../escape.html",
        "articles/../../escape.html",
        "/etc/escape.html",
        "../build-2/index.html",  # a sibling whose name starts with the output folder's
        ".",
    ],
)
def test_a_path_outside_the_output_folder_is_refused(tmp_path: Path, relative: str) -> None:
    output = tmp_path / "build"
    refused = f"refusing to write {relative!r}: it is outside the output folder"
    for where in (target, target_path):
        with pytest.raises(OutputError) as caught:
            where(output, relative)
        assert str(caught.value) == refused


def test_a_path_inside_the_output_folder_is_its_file(tmp_path: Path) -> None:
    output = tmp_path / "build"
    assert target(output, "articles/../tags/index.html") == output / "tags" / "index.html"
    assert target_path(output, "feed.xml") == f"{output}/feed.xml"


def test_a_recorded_file_outside_the_output_folder_is_never_removed(make_site: MakeSite) -> None:
    """The cache lists the files the last build wrote, and the next build removes those it
    no longer has: a record naming a file outside the output folder is passed over, not
    obeyed, and the build goes on."""
    site = make_site({"seeds/a.txt": ROMA})
    build_site(site, search=False)
    victim = site / "victim.txt"
    victim.write_text("not newsgen's")
    with contextlib.closing(sqlite3.connect(site / ".newsgen" / "cache.sqlite")) as db:
        db.execute("INSERT INTO outputs SELECT output, '/../victim.txt', 'k' FROM outputs LIMIT 1")
        db.commit()
    (site / "seeds" / "b.txt").write_text(MILANO)
    _, result = build_site(site, search=False)  # a damaged record does not stop the site
    assert result.removed == 0
    assert victim.read_text() == "not newsgen's"


# --- renames that fail ----------------------------------------------------------------------


def test_a_rename_that_fails_is_an_output_error_naming_the_file(tmp_path: Path) -> None:
    page = tmp_path / "feed.xml"
    page.mkdir()
    (page / "kept.txt").write_text("kept")
    staged = stage(page, b"<feed/>")
    with pytest.raises(OutputError) as caught:
        commit([staged])
    assert str(caught.value) == f"cannot write {page}: Is a directory; {CANNOT}"
    assert (page / "kept.txt").read_text() == "kept"
    assert temporaries(tmp_path) == []


def test_a_commit_that_fails_half_way_leaves_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "b.html").mkdir()
    (tmp_path / "b.html" / "kept.txt").write_text("kept")
    staged = [stage(tmp_path / name, name.encode()) for name in ("a.html", "b.html", "c.html")]
    with pytest.raises(OutputError) as caught:
        commit(staged)
    assert str(caught.value).startswith(
        f"cannot write {tmp_path / 'b.html'}: Is a directory; 1 file of this build"
    )
    assert (tmp_path / "a.html").read_bytes() == b"a.html"
    assert not (tmp_path / "c.html").exists()
    assert temporaries(tmp_path) == []


def test_a_page_that_cannot_be_put_in_place_fails_the_build_and_the_next_completes_it(
    make_site: MakeSite, tmp_path: Path
) -> None:
    site = make_site({"seeds/a.txt": ROMA})
    build_site(site, search=False)
    (site / "seeds" / "b.txt").write_text(MILANO)
    feed = site / "build" / "feed.xml"
    feed.unlink()
    feed.mkdir()  # in the way of the new feed's rename
    (feed / "kept.txt").write_text("kept")

    with pytest.raises(OutputError) as caught:
        build_site(site, search=False)

    # The pages renamed before it are this build's: the message must not say otherwise.
    assert str(caught.value) == (
        f"cannot write {feed}: Is a directory; 3 files of this build were already put in "
        "place, the others are as they were; free some space or make the folder writable, "
        "then build again to complete the site"
    )
    assert temporaries(site / "build") == []
    assert (feed / "kept.txt").read_text() == "kept"
    (feed / "kept.txt").unlink()
    feed.rmdir()
    build_site(site, search=False)
    clean = make_site({"seeds/a.txt": ROMA, "seeds/b.txt": MILANO}, root=tmp_path / "clean")
    build_site(clean, search=False)
    assert snapshot(site / "build") == snapshot(clean / "build")


def test_an_output_folder_made_during_a_first_build_is_left_as_it_is(make_site: MakeSite) -> None:
    """A first build writes a new folder and renames it into place at the end: when a folder
    appeared there meanwhile, it stays, and the new one is removed."""
    site = make_site({"seeds/a.txt": ROMA})
    output = site / "build"

    def someone_else_writes(problems: Sequence[Problem]) -> bool:
        output.mkdir()
        (output / "mine.txt").write_text("someone else's")
        return False

    config = load_config(site, {"search": False})
    with pytest.raises(OutputError) as caught:
        build(config, jobs=1, hold=someone_else_writes)
    assert str(caught.value) == f"cannot write {output}: Directory not empty; {CANNOT}"
    assert snapshot(output) == {"mine.txt": b"someone else's"}
    assert temporaries(site) == []
    build(config, jobs=1)  # the next build writes the site beside the file
    assert (output / "index.html").is_file()
    assert (output / "mine.txt").read_text() == "someone else's"


# --- the output folder as a whole -----------------------------------------------------------


def test_an_output_path_that_is_a_file_is_refused(make_site: MakeSite) -> None:
    site = make_site({"seeds/a.txt": ROMA})
    output = site / "build"
    output.write_text("a file")
    with pytest.raises(OutputError) as caught:
        build_site(site, search=False)
    assert str(caught.value) == (
        f"output folder {output} is not a folder; move it away or choose another folder "
        "with --output"
    )
    assert output.read_text() == "a file"
    assert temporaries(site) == []


def test_new_folders_of_dead_builds_are_removed_and_those_of_running_ones_kept(
    make_site: MakeSite,
) -> None:
    site = make_site({"seeds/a.txt": ROMA})
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(ended.stdout)
    (site / f".newsgen-{dead}-build.tmp" / "articles").mkdir(parents=True)
    (site / ".newsgen-1-build.tmp").mkdir()  # process 1 runs as long as the system does
    build_site(site, search=False)
    assert temporaries(site) == [".newsgen-1-build.tmp"]
    assert (site / "build" / "index.html").is_file()


def test_a_marker_that_cannot_be_read_is_newsgens_and_lists_no_file(tmp_path: Path) -> None:
    (tmp_path / MARKER).mkdir()
    assert read_marker(tmp_path) == ""
    assert marked_files(tmp_path) == set()
    assert read_marker(tmp_path / "none") is None
