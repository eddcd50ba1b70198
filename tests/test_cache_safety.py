"""The build cache and the output folder under stress: a damaged cache, a cache that cannot
be written, a site copied or moved, a first build that fails, two builds at once.

Whatever happens to the cache, a build ends with the output of a clean build (every file's
bytes compared), or stops with one clear line; never a traceback, never a mix of two builds.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from newsgen.build import build
from newsgen.cache import Busy, site_lock
from newsgen.config import load_config
from newsgen.write import MARKER, TEMP_PREFIX
from tests.conftest import MakeSite, build_site
from tests.util import (
    build_in_namespace,
    clean_build,
    in_process,
    in_subprocess,
    needs_mounts,
    snapshot,
    start,
)

UNREADABLE = "Note: build cache unreadable, rebuilding from scratch"
# A public base_url: a build for this machine's ends with a note (test_cli) that these
# tests' exact stderr would have to allow for.
CONFIG = "title: Prova\nbase_url: https://example.org/\nlanguage: it\nper_page: 10\nsearch: false\n"


def corpus(numbers: range, version: str = "A") -> dict[str, str]:
    return {
        f"seeds/{n:03d}_{n:016x}.txt": (
            f"Titolo numero {n}\n\nRoma – Il testo dell'articolo {n}, versione {version}, "
            "abbastanza lungo per una pagina vera con un riassunto.\n"
            f"Un secondo paragrafo dell'articolo {n}.\n"
        )
        for n in numbers
    }


def seed(n: int) -> str:
    return f"seeds/{n:03d}_{n:016x}.txt"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX))


# --- a damaged cache ----------------------------------------------------------------------


def damage(cache: Path, table: str) -> None:
    """Write garbage over some pages of `table` in the middle of the SQLite file."""
    db = sqlite3.connect(cache)
    pages = [n for (n,) in db.execute("SELECT pageno FROM dbstat WHERE name = ?", (table,))]
    (size,) = db.execute("PRAGMA page_size").fetchone()
    db.close()
    assert pages, f"the cache has no pages of {table}"
    middle = pages[len(pages) // 2 : len(pages) // 2 + 3]
    noise = random.Random(table)
    with open(cache, "r+b") as handle:
        for page in middle:
            handle.seek((page - 1) * size)
            handle.write(noise.randbytes(size))


@pytest.fixture
def site_of_80(make_site: MakeSite) -> Path:
    """80 articles: enough pages for the renderers to run in worker processes."""
    site = make_site({**corpus(range(80)), "newsgen.yaml": CONFIG})
    build_site(site)
    return site


def change_footer(site: Path) -> None:
    """A template change: every page is rendered again, by the workers, from the bodies."""
    footer = site / "templates" / "partials" / "footer.html"
    footer.parent.mkdir(parents=True, exist_ok=True)
    footer.write_text("<footer><p>Archivio di prova</p></footer>\n", encoding="utf-8")


@pytest.mark.parametrize(
    "table", ["files", "units", "bodies", "outputs", "builds", "placed", "blocks"]
)
def test_a_damaged_cache_is_one_note_and_a_clean_build(
    site_of_80: Path, table: str, tmp_path: Path
) -> None:
    site = site_of_80
    damage(site / ".newsgen" / "cache.sqlite", table)
    (site / seed(3)).unlink()
    (site / seed(5)).write_text("Un titolo nuovo\n\nMilano – Un altro testo.\n", "utf-8")
    change_footer(site)
    code, _, err = in_process("build", "--site", str(site), "--jobs", "2").lines()
    assert code == 0
    assert err[0] == UNREADABLE
    assert len(err) == 2 and err[1].startswith("Built 79 articles")
    assert snapshot(site / "build") == clean_build(site, tmp_path)
    code, _, err = in_process("build", "--site", str(site)).lines()
    assert (code, err[0][:9]) == (0, "Built 79 ")  # the new cache is sound


def test_bodies_missing_from_the_cache_are_a_clean_build(site_of_80: Path, tmp_path: Path) -> None:
    """The renderers, in worker processes, find no body: the build starts again."""
    db = sqlite3.connect(site_of_80 / ".newsgen" / "cache.sqlite")
    db.execute("DELETE FROM bodies")
    db.commit()
    db.close()
    change_footer(site_of_80)
    code, _, err = in_process("build", "--site", str(site_of_80), "--jobs", "2").lines()
    assert (code, err[0], len(err)) == (0, UNREADABLE, 2)
    assert snapshot(site_of_80 / "build") == clean_build(site_of_80, tmp_path)


def test_a_cache_that_is_not_a_database_is_replaced(site_of_80: Path, tmp_path: Path) -> None:
    (site_of_80 / ".newsgen" / "cache.sqlite").write_bytes(b"not a database " * 1000)
    (site_of_80 / seed(7)).unlink()
    code, _, err = in_process("build", "--site", str(site_of_80)).lines()
    assert (code, err[0], len(err)) == (0, UNREADABLE, 2)
    assert snapshot(site_of_80 / "build") == clean_build(site_of_80, tmp_path)


# --- a cache that cannot be written ---------------------------------------------------------

SETPRIV = [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
]
needs_setpriv = pytest.mark.skipif(
    not shutil.which("setpriv"), reason="setpriv (util-linux) is needed to drop root's rights"
)


def unwritable(site: Path, why: str) -> str:
    return (
        f"Note: build cache cannot be written in {site}/.newsgen ({why}); building without "
        "it (every build starts from scratch until it can be written)"
    )


@needs_setpriv
def test_a_read_only_cache_folder_is_a_note_and_a_clean_build(
    site_of_80: Path, tmp_path: Path
) -> None:
    """Run without the rights that let root write anywhere: mode bits count again."""
    site = site_of_80
    (site / ".newsgen").chmod(0o555)
    (site / seed(3)).unlink()
    try:
        done = in_subprocess("build", "--site", str(site), before=SETPRIV)
    finally:
        (site / ".newsgen").chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        unwritable(site, "attempt to write a readonly database"),
        "Built 79 articles, 111 pages (118 written, 1 removed) in 0.00 s; 0 warnings, 0 errors; "
        "79 input files: 79 built, 0 skipped, 0 failed.",
    ]
    assert snapshot(site / "build") == clean_build(site, tmp_path)


@needs_setpriv
def test_a_read_only_site_folder_builds_elsewhere_without_a_cache(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """A site (its URLs recorded) that cannot be written, built into another folder."""
    site = make_site({**corpus(range(5)), "newsgen.yaml": CONFIG})
    output = tmp_path / "out" / "site"
    build_site(site, output=str(output))
    shutil.rmtree(site / ".newsgen")
    shutil.rmtree(output)
    site.chmod(0o555)
    try:
        done = in_subprocess(
            "build", "--site", str(site), "--output", str(output), "-q", before=SETPRIV
        )
    finally:
        site.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [unwritable(site, "the folder cannot be written")]
    assert not (site / ".newsgen").exists()
    assert snapshot(output) == clean_build(site, tmp_path)


@needs_mounts
def test_a_full_disk_under_the_cache_is_a_note_and_a_clean_build(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """The cache folder is a 48 kB tmpfs: the first build fills it."""
    site = make_site({**corpus(range(30)), "newsgen.yaml": CONFIG})
    (site / ".newsgen").mkdir()
    done = build_in_namespace(
        site, 'mount -t tmpfs -o size=48k tmpfs "$CACHE"', CACHE=str(site / ".newsgen")
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        unwritable(site, "database or disk is full"),
        "Built 30 articles, 47 pages (54 written, 0 removed) in 0.00 s; 0 warnings, 0 errors; "
        "30 input files: 30 built, 0 skipped, 0 failed.",
    ]
    assert snapshot(site / "build") == clean_build(site, tmp_path)


@needs_mounts
def test_a_read_only_file_system_under_the_cache_is_a_note_and_a_clean_build(
    site_of_80: Path, tmp_path: Path
) -> None:
    site = site_of_80
    (site / ".newsgen" / "lock").unlink()  # the lock then cannot even be made
    (site / seed(3)).unlink()
    done = build_in_namespace(
        site,
        'mount --bind "$CACHE" "$CACHE" && mount -o remount,ro,bind "$CACHE"',
        CACHE=str(site / ".newsgen"),
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == unwritable(site, "the folder cannot be written")
    assert snapshot(site / "build") == clean_build(site, tmp_path)


def test_no_writable_cache_anywhere_is_exit_1_naming_both_places(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file where the cache folder goes, and no temporary folder can be made."""
    site = make_site({**corpus(range(3)), "newsgen.yaml": CONFIG})
    (site / ".newsgen").write_text("in the way", encoding="utf-8")

    def full(*args: object, **kwargs: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "mkdtemp", full)
    code, _, err = in_process("build", "--site", str(site)).lines()
    assert (code, err) == (
        1,
        [
            f"Error: the build cache cannot be written, neither in {site}/.newsgen nor in a "
            "temporary folder (No space left on device); free some space, or make the folder "
            "writable"
        ],
    )
    assert not (site / "build").exists()


# --- a site copied or moved -----------------------------------------------------------------


def test_a_copied_site_with_a_seed_deleted_equals_a_clean_build(
    site_of_80: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(site_of_80, copy)
    (copy / seed(3)).unlink()
    config, result = build_site(copy)
    assert snapshot(config.output_dir) == clean_build(copy, tmp_path)
    assert result.enriched == 0 and result.written < result.pages  # still incremental
    assert (site_of_80 / "build" / "articles" / "titolo-numero-3" / "index.html").is_file()


def test_a_moved_site_with_a_seed_deleted_equals_a_clean_build(
    site_of_80: Path, tmp_path: Path
) -> None:
    moved = tmp_path / "renamed"
    site_of_80.rename(moved)
    (moved / seed(3)).unlink()
    config, result = build_site(moved)
    assert snapshot(config.output_dir) == clean_build(moved, tmp_path)
    assert result.enriched == 0


def test_two_copies_building_one_outside_folder_never_leave_each_others_pages(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """Copies A and B of a site write to one folder outside both (`output: ../out`): each
    build notices that the folder holds the other's build."""
    a = make_site({**corpus(range(30)), "newsgen.yaml": CONFIG + "output: ../out\n"})
    build_site(a)
    b = tmp_path / "b"
    shutil.copytree(a, b)
    (b / seed(3)).unlink()
    (b / seed(31)).write_text("Titolo numero 31\n\nRoma – Solo nella copia.\n", "utf-8")
    build_site(b)
    assert (tmp_path / "out" / "articles" / "titolo-numero-31" / "index.html").is_file()
    _, result = build_site(a)  # A's inputs did not change
    assert snapshot(tmp_path / "out") == clean_build(a, tmp_path / "clean-a")
    assert result.removed == 1
    _, result = build_site(b)
    assert snapshot(tmp_path / "out") == clean_build(b, tmp_path / "clean-b")


def test_an_output_folder_moved_outside_the_site_equals_a_clean_build(
    make_site: MakeSite, tmp_path: Path
) -> None:
    first, second = tmp_path / "www" / "one", tmp_path / "www" / "two"
    site = make_site({**corpus(range(30)), "newsgen.yaml": f"{CONFIG}output: {first}\n"})
    build_site(site)
    first.rename(second)
    (site / "newsgen.yaml").write_text(f"{CONFIG}output: {second}\n", "utf-8")
    (site / seed(3)).unlink()
    config, _ = build_site(site)
    assert config.output_dir == second
    expected = clean_build(site, tmp_path)
    assert snapshot(second) == expected


def test_files_put_in_the_output_by_hand_stay_when_the_cache_is_lost(
    site_of_80: Path, tmp_path: Path
) -> None:
    """Without a cache, newsgen still knows its own files from the output's marker: only
    those are removed."""
    output = site_of_80 / "build"
    (output / "CNAME").write_text("news.example.org\n", encoding="utf-8")
    shutil.rmtree(site_of_80 / ".newsgen")
    (site_of_80 / seed(3)).unlink()
    _, result = build_site(site_of_80)
    expected = clean_build(site_of_80, tmp_path)
    assert snapshot(output) == {**expected, "CNAME": b"news.example.org\n"}
    assert result.removed == 1


def test_a_folder_newsgen_did_not_make_keeps_its_files(make_site: MakeSite) -> None:
    site = make_site({**corpus(range(3)), "newsgen.yaml": CONFIG})
    (site / "build").mkdir()
    (site / "build" / "about.html").write_text("<p>mine</p>", encoding="utf-8")
    config, _ = build_site(site)
    assert (config.output_dir / "about.html").read_text(encoding="utf-8") == "<p>mine</p>"
    assert "about.html" not in (config.output_dir / MARKER).read_text(encoding="utf-8")


# --- a first build that fails ---------------------------------------------------------------

TRAP = '{% if a.title == "Titolo numero 25" %}{{ nope.x }}{% endif %}'


def test_a_first_build_that_fails_leaves_no_output_folder(make_site: MakeSite) -> None:
    """The page of the 26th article cannot be rendered, after the others were."""
    theme = Path(__file__).resolve().parent.parent / "newsgen" / "theme" / "templates"
    template = (theme / "article.html").read_text(encoding="utf-8")
    assert "{% block title %}" in template
    broken = template.replace("{% block title %}", "{% block title %}" + TRAP, 1)
    line = broken[: broken.index(TRAP)].count("\n") + 1
    site = make_site(
        {**corpus(range(30)), "newsgen.yaml": CONFIG, "templates/article.html": broken}
    )
    code, _, err = in_process("build", "--site", str(site), "--jobs", "1").lines()
    assert (code, err) == (
        1,
        [
            f"Error: templates/article.html:{line}: template error: 'nope' is undefined; fix "
            "the template and save; the pages already built were left as they were"
        ],
    )
    assert not (site / "build").exists()
    assert leftovers(site) == []


# --- two builds at once ---------------------------------------------------------------------


def holding(site: Path, build: subprocess.Popen[str]) -> bool:
    """Wait until `build` holds the site's lock (its pid is in the lock file); False when
    it ended first."""
    lock = site / ".newsgen" / "lock"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if lock.is_file() and lock.read_text(encoding="utf-8").startswith(f"{build.pid} "):
            return True
        if build.poll() is not None:
            return False
        time.sleep(0.01)
    raise AssertionError("the build never took the lock")


def stopped_build(site: Path) -> subprocess.Popen[str]:
    """A cold build of `site`, stopped (SIGSTOP, workers too) while it holds the lock."""
    for _ in range(3):
        shutil.rmtree(site / "build", ignore_errors=True)
        shutil.rmtree(site / ".newsgen", ignore_errors=True)
        first = start("build", "--site", str(site), "--jobs", "2", "-q")
        if holding(site, first):
            os.killpg(first.pid, signal.SIGSTOP)
            return first
        first.communicate()
    raise AssertionError("three builds ended before the test could stop them")


@pytest.fixture
def site_of_240(make_site: MakeSite) -> Path:
    return make_site({**corpus(range(240)), "newsgen.yaml": CONFIG})


def test_a_second_build_exits_2_naming_the_first_then_waits_with_wait(
    site_of_240: Path, tmp_path: Path
) -> None:
    site = site_of_240
    first = stopped_build(site)
    try:
        second = in_subprocess("build", "--site", str(site))
        assert second.returncode == 2
        assert second.stderr == (
            f"Error: another newsgen process (pid {first.pid}: newsgen build --site {site} "
            f"--jobs 2 -q) is building {site}; run again once it is done, or add --wait to "
            "wait for it\n"
        )
        waiting = start("build", "--site", str(site), "--wait")
        assert waiting.stderr is not None
        assert waiting.stderr.readline() == (
            f"Waiting for another newsgen process (pid {first.pid}: newsgen build --site "
            f"{site} --jobs 2 -q) to finish building {site}...\n"
        )
        assert waiting.poll() is None
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    first.communicate(timeout=600)
    assert first.returncode == 0
    _, rest = waiting.communicate(timeout=600)
    assert waiting.returncode == 0, rest
    assert rest.startswith("Built 240 articles")
    assert snapshot(site / "build") == clean_build(site, tmp_path)


def test_the_lock_goes_with_a_killed_build(site_of_240: Path, tmp_path: Path) -> None:
    site = site_of_240
    first = stopped_build(site)
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate()
    done = in_subprocess("build", "--site", str(site))
    assert done.returncode == 0, done.stderr
    assert snapshot(site / "build") == clean_build(site, tmp_path)
    assert leftovers(site) == []


def test_build_in_a_program_raises_busy_or_waits(site_of_240: Path) -> None:
    """`newsgen serve` builds with the default, `wait=True`: it waits for a build run
    meanwhile instead of failing."""
    site = site_of_240
    first = stopped_build(site)
    config = load_config(site)
    try:
        with pytest.raises(Busy, match=rf"^another newsgen process \(pid {first.pid}: "):
            build(config, wait=False)
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    heard: list[str] = []
    result = build(config, jobs=2, waiting=heard.append)
    first.communicate(timeout=600)
    assert first.returncode == 0
    assert result.articles == 240
    assert heard in ([], [f"pid {first.pid}: newsgen build --site {site} --jobs 2 -q"])


def test_a_lock_held_in_this_process_blocks_a_build_without_wait(make_site: MakeSite) -> None:
    site = make_site({**corpus(range(2)), "newsgen.yaml": CONFIG})
    with site_lock(site / ".newsgen", site=site, wait=False), pytest.raises(Busy):
        build(load_config(site), wait=False)
    build(load_config(site), wait=False)
