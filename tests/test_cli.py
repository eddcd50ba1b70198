"""The command line: exact output lines and exit codes."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

import newsgen
from newsgen import search
from newsgen.cli import main
from newsgen.write import MARKER
from tests.conftest import MakeSite
from tests.util import in_process, snapshot

TWO_ARTICLES = {
    "seeds/a.txt": "Stesso titolo\n\nRoma – Il primo testo.\n",
    "seeds/b.txt": "Stesso titolo\n\nMilano – Il secondo testo.\n",
}


STATIC = Path(newsgen.__file__).parent / "theme" / "static"


def summary_line(site: Path, articles: str, problems: str, *, written: int | None = None) -> str:
    """The summary line of a clean build of `site`, its counts taken from the output folder
    (other features add pages; the line's shape is what is tested here). `_headers` is
    written, but is no page."""
    files = sum(
        1
        for f in (site / "build").rglob("*")
        if f.is_file() and "pagefind" not in f.parts and f.name != MARKER
    )
    pages = files - 1 - sum(1 for f in STATIC.rglob("*") if f.is_file())
    done = files if written is None else written
    return f"Built {articles}, {pages} pages ({done} written, 0 removed) in 0.00 s; {problems}."


def published(files: Mapping[str, str | bytes]) -> dict[str, str | bytes]:
    """A site with its public address: a build for this machine's adds a note to the summary
    (see test_a_loopback_base_url_is_noted_after_the_summary)."""
    settings = files.get("newsgen.yaml", "")
    assert isinstance(settings, str)
    return {**files, "newsgen.yaml": f"base_url: https://example.org/\n{settings}"}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], list[str]]:
    """Exit code, stdout lines and stderr lines, with the build time made constant."""
    return in_process(*args).lines()


def test_clean_build_prints_one_summary_line(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(published({"seeds/a.txt": "Roma – Un testo.\n"}))
    code, out, err = run(capsys, "build", "--site", str(site))
    assert (code, out) == (0, [])
    assert err == [
        summary_line(
            site, "1 article", "0 warnings, 0 errors; 1 input file: 1 built, 0 skipped, 0 failed"
        )
    ]


def test_second_build_writes_nothing(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(published({"seeds/a.txt": "Roma – Un testo.\n"}))
    run(capsys, "build", "--site", str(site))
    assert run(capsys, "build", "--site", str(site))[2] == [
        summary_line(
            site,
            "1 article",
            "0 warnings, 0 errors; 1 input file: 1 built, 0 skipped, 0 failed",
            written=0,
        )
    ]


def test_no_search_overrides_the_setting(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(
        published({"seeds/a.txt": "Roma – Un testo.\n", "newsgen.yaml": "search: true\n"})
    )
    code, _, err = run(capsys, "build", "--site", str(site), "--no-search")
    assert code == 0
    assert err == [
        summary_line(
            site, "1 article", "0 warnings, 0 errors; 1 input file: 1 built, 0 skipped, 0 failed"
        )
    ]
    assert not (site / "build" / "pagefind").exists()
    assert not (site / "build" / "search").exists()


def test_problems_then_the_summary_and_exit_0(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(published({**TWO_ARTICLES, "seeds/c.txt": b"x\x00y"}))
    code, out, err = run(capsys, "build", "--site", str(site))
    assert (code, out) == (0, [])
    assert err == [  # by file, then line
        "seeds/b.txt:1: URL /articles/stesso-titolo/ is already used by seeds/a.txt; "
        "published as /articles/stesso-titolo-2/; set 'slug:' in front matter to choose",
        "seeds/c.txt:1: file is not text (NUL bytes); skipped",
        summary_line(
            site, "2 articles", "1 warning, 1 error; 3 input files: 2 built, 0 skipped, 1 failed"
        ),
    ]


def test_strict_turns_a_warning_into_exit_1(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(published(TWO_ARTICLES))
    code, _, err = run(capsys, "build", "--site", str(site), "--strict")
    assert code == 1
    assert err[-1].endswith("1 warning, 0 errors; 2 input files: 2 built, 0 skipped, 0 failed.")


def test_strict_without_problems_is_exit_0(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"seeds/a.txt": "Roma – Un testo.\n"})
    assert run(capsys, "build", "--site", str(site), "--strict")[0] == 0


def test_quiet_prints_only_problems(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site(TWO_ARTICLES)
    assert run(capsys, "build", "--site", str(site), "--quiet") == (
        0,
        [],
        [
            "seeds/b.txt:1: URL /articles/stesso-titolo/ is already used by seeds/a.txt; "
            "published as /articles/stesso-titolo-2/; set 'slug:' in front matter to choose"
        ],
    )


def test_repeated_problems_collapse_unless_verbose(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({f"seeds/{n}.txt": "\n" * (n + 1) for n in range(7)})
    empty = [f"seeds/{n}.txt:1: file is empty; skipped" for n in range(7)]
    assert run(capsys, "build", "--site", str(site), "-q")[2] == [
        *empty[:5],
        "... and 2 more: file is empty; skipped",
    ]
    assert run(capsys, "build", "--site", str(site), "--verbose")[2][:7] == empty


def test_unknown_config_key_is_exit_2_with_a_suggestion(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"newsgen.yaml": "per_pag: 3\ntitel: X\nfeed_size: 0\n"})
    assert run(capsys, "build", "--site", str(site)) == (
        2,
        [],
        [
            "Error: newsgen.yaml: 'per_pag' is not a setting; did you mean 'per_page'?",
            "Error: newsgen.yaml: 'titel' is not a setting; did you mean 'title'?",
            "Error: newsgen.yaml: 'feed_size': expected a whole number of at least 1, got 0",
        ],
    )
    assert not (site / "build").exists()


def test_site_that_is_not_a_folder_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert run(capsys, "build", "--site", str(missing)) == (
        2,
        [],
        [
            f"Error: --site: {missing} is not a folder; give the folder that holds seeds/ "
            "and articles/"
        ],
    )


@pytest.mark.parametrize("output", ["seeds", ".", "seeds/out"])
def test_output_overlapping_a_source_folder_is_refused(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str], output: str
) -> None:
    site = make_site({"seeds/a.txt": "Roma – Un testo.\n"})
    code, out, err = run(capsys, "build", "--site", str(site), "--output", output)
    assert (code, out) == (1, [])
    assert err == [
        f"Error: output folder {(site / output).resolve()} overlaps source folder "
        f"{(site / 'seeds').resolve()}; choose another output folder with --output"
    ]
    assert (site / "seeds" / "a.txt").read_text(encoding="utf-8") == "Roma – Un testo.\n"


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert (code, out) == (2, [])
    assert err[0] == "usage: newsgen [-h] [--version] COMMAND ..."


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["build", "--bogus"])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "newsgen: error: unrecognized arguments: --bogus"
    )


def test_a_legacy_encoding_is_a_warning_naming_the_file(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "Genève - Les négociations ont échoué à la dernière minute, selon les délégués.\n"
    site = make_site(published({"seeds/latin1.txt": text.encode("latin-1")}))
    code, _, err = run(capsys, "build", "--site", str(site))
    assert code == 0
    assert err == [
        "seeds/latin1.txt:1: not UTF-8; read as cp1252; re-save the file as UTF-8 to be sure "
        "of the text",
        summary_line(
            site, "1 article", "1 warning, 0 errors; 1 input file: 1 built, 0 skipped, 0 failed"
        ),
    ]
    page = (
        site
        / "build"
        / "articles"
        / "les-negociations-ont-echoue-a-la-derniere-minute-selon-les-delegues"
        / "index.html"
    )
    assert "Les négociations ont échoué" in page.read_text(encoding="utf-8")


def test_a_broken_template_is_exit_1_naming_its_line_and_keeps_the_old_site(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"seeds/a.txt": "Roma – Un testo.\n"})
    run(capsys, "build", "--site", str(site))
    before = snapshot(site / "build")
    footer = site / "templates" / "partials" / "footer.html"
    footer.parent.mkdir(parents=True)
    footer.write_text("<footer>\n{{ nope.x }}</footer>\n", encoding="utf-8")
    code, out, err = run(capsys, "build", "--site", str(site))
    assert (code, out) == (1, [])
    assert err == [
        "Error: templates/partials/footer.html:2: template error: 'nope' is undefined; "
        "fix the template and save; the pages already built were left as they were"
    ]
    assert snapshot(site / "build") == before


def test_a_search_index_that_cannot_be_written_is_exit_1_and_the_next_build_writes_it(
    make_site: MakeSite,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    site = make_site(published({"seeds/a.txt": "Roma – Un testo.\n"}))
    run(capsys, "build", "--site", str(site))
    (site / "seeds" / "b.txt").write_text("Milano – Un altro testo.\n", encoding="utf-8")
    # A Pagefind that takes the first request and dies without answering.
    dying = tmp_path / "pagefind"
    dying.write_text("#!/bin/sh\nhead -c 1 >/dev/null\nexit 3\n")
    dying.chmod(0o755)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(dying))
    code, out, err = run(capsys, "build", "--site", str(site))
    assert (code, out) == (1, [])
    assert err == [
        "Error: the search index could not be written (Pagefind stopped unexpectedly "
        "(exit 3)); the pages are written; run the build again, and report the error if it "
        "persists"
    ]
    assert (site / "build" / "articles" / "un-altro-testo" / "index.html").is_file()
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    code, _, err = run(capsys, "build", "--site", str(site))
    assert code == 0
    assert err[-1].startswith("Built 2 articles, ")
    assert search.index_present(site / "build")


def test_ctrl_c_is_exit_130_with_one_line(make_site: MakeSite, tmp_path: Path) -> None:
    """Interrupted while it waits (--wait) for the build that holds the site's lock: a
    point the build reaches every time, whatever the machine's speed."""
    site = make_site({"seeds/a.txt": "Roma – Un testo.\n"})
    (site / ".newsgen").mkdir()
    stderr = tmp_path / "stderr"
    waiting = (
        "Waiting for another newsgen process (pid 4242: newsgen build --site elsewhere) to "
        f"finish building {site}...\n"
    )
    with (site / ".newsgen" / "lock").open("w+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write(b"4242 newsgen build --site elsewhere\n")
        lock.flush()
        with stderr.open("wb") as err:
            build = subprocess.Popen(
                [sys.executable, "-m", "newsgen", "build", "--site", str(site), "--wait"],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        try:
            deadline = time.monotonic() + 60
            while stderr.read_text() != waiting and time.monotonic() < deadline:
                assert build.poll() is None, stderr.read_text()
                time.sleep(0.05)
            assert stderr.read_text() == waiting
            build.send_signal(signal.SIGINT)
            code = build.wait(timeout=60)
        finally:
            if build.poll() is None:
                build.kill()
                build.wait()
    assert code == 130
    assert stderr.read_text() == waiting + "Interrupted.\n"
    assert not (site / "build").exists()


@pytest.mark.parametrize("command", [["new", "Un titolo"], ["import"]])
def test_an_editorial_command_on_a_site_that_is_not_a_folder_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert run(capsys, *command, "--site", str(missing)) == (
        2,
        [],
        [f"Error: --site: {missing} is not a folder; give the folder of the site"],
    )
    assert not missing.exists()


def test_a_build_on_a_terminal_draws_progress_and_clears_it_before_the_summary(
    make_site: MakeSite,
) -> None:
    site = make_site(published({"seeds/a.txt": "Roma – Un testo.\n"}))
    controller, terminal = pty.openpty()
    try:
        build = subprocess.Popen(
            [sys.executable, "-m", "newsgen", "build", "--site", str(site), "--no-search"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=terminal,
        )
    finally:
        os.close(terminal)
    shown = b""
    try:
        while select.select([controller], [], [], 60)[0]:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the build ended and closed the terminal
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
        if build.poll() is None:
            build.kill()
    assert build.wait() == 0
    text = shown.decode()
    bars = r"(?:\r(?:reading|writing) {2}\[[#.]{30}\] \d+/\d+)+"
    summary = r"Built 1 article, (\d+) pages \(\d+ written, 0 removed\) in \d+\.\d\d s; "
    summary += r"0 warnings, 0 errors; 1 input file: 1 built, 0 skipped, 0 failed\."
    found = re.fullmatch(bars + r"\r\x1b\[K" + summary + r"\r\n", text)
    assert found, text
    pages = found[1]
    assert f"\rwriting  [{'#' * 30}] {pages}/{pages}\r" in text
    assert f"\rreading  [{'#' * 30}] 1/1\r" in text


def test_a_template_raising_a_python_error_is_exit_1_naming_its_line(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    """Jinja lets `{{ 1 / 0 }}` through as ZeroDivisionError; it is still the template's."""
    site = make_site({"seeds/a.txt": "Roma – Un testo.\n"})
    footer = site / "templates" / "partials" / "footer.html"
    footer.parent.mkdir(parents=True)
    footer.write_text("<footer>\n{{ 1 / 0 }}</footer>\n", encoding="utf-8")
    code, out, err = run(capsys, "build", "--site", str(site), "--no-search")
    assert (code, out) == (1, [])
    assert err == [
        "Error: templates/partials/footer.html:2: template error: ZeroDivisionError: "
        "division by zero; fix the template and save; the pages already built were left as "
        "they were"
    ]


@pytest.mark.parametrize(
    ("script", "mode", "why"),
    [
        (
            "#!/bin/sh\nexit 3\n",
            0o644,
            "Pagefind's binary {binary} cannot be run (Permission "
            "denied); reinstall with pip install 'pagefind[extended]'",
        ),
        ("#!/bin/sh\nexec 0<&-\nexit 3\n", 0o755, "Pagefind stopped unexpectedly (exit 3)"),
    ],
    ids=["not executable", "exits at once"],
)
def test_a_pagefind_that_cannot_run_is_exit_1_on_a_first_build_too(
    make_site: MakeSite,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    script: str,
    mode: int,
    why: str,
) -> None:
    """A first build writes into a new folder, discarded when the index fails: no page is
    kept, and the message says so."""
    site = make_site({"seeds/a.txt": "Roma – Un testo.\n"})
    binary = tmp_path / "pagefind"
    binary.write_text(script)
    binary.chmod(mode)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(binary))
    code, out, err = run(capsys, "build", "--site", str(site))
    assert (code, out) == (1, [])
    assert err == [
        f"Error: the search index could not be written ({why.format(binary=binary)}); no page "
        "was kept; run the build again, and report the error if it persists"
    ]
    assert not (site / "build").exists()


def test_every_input_file_is_built_skipped_or_failed_in_the_summary(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    """20 copies of one text, a draft with its seed, a file `source:` already curates, a
    file that is not text and one with bad front matter: 26 files, each counted once."""
    text = "Roma – Il consiglio comunale ha approvato il bilancio dopo una lunga seduta.\n"
    copies = {f"seeds/copia-{n:02}.txt": text for n in range(21)}
    site = make_site(
        published(
            {
                **copies,
                "seeds/bozza.txt": "Milano – Una notizia ancora da verificare in redazione.\n",
                "articles/a-bozza.md": "---\nsource: seeds/bozza.txt\ndraft: true\n---\n",
                "articles/ancora.md": "---\nsource: seeds/bozza.txt\ntitle: Ancora\n---\n",
                "seeds/rotto.txt": b"x\x00y",
                "articles/guasto.md": "---\ntitle: [\n---\nTesto.\n",
            }
        )
    )
    code, _, err = run(capsys, "build", "--site", str(site))
    assert code == 0
    assert err[-1].endswith(
        "; 26 input files: 1 built, 23 skipped (20 with the same text as another file, "
        "2 drafts, 1 as warned above), 2 failed."
    )
    assert err[:-1] == [
        "articles/ancora.md:1: 'source: seeds/bozza.txt' is already curated by "
        "articles/a-bozza.md; skipped",
        "articles/guasto.md:2: front matter is not valid YAML (expected the node content, "
        "but found '<stream end>'); fix it; skipped",
        *(
            f"seeds/copia-{n:02}.txt:1: same text as seeds/copia-00.txt; skipped; delete one "
            "of the two files"
            for n in range(1, 6)
        ),
        "... and 15 more: same text as seeds/copia-00.txt; skipped; delete one of the two files",
        "seeds/rotto.txt:1: file is not text (NUL bytes); skipped",
    ]


LOCAL_NOTE = (
    "Note: absolute URLs point to this machine (base_url: {url}): the feeds, sitemap.xml, "
    "robots.txt and the pages' canonical links would not lead readers to the site. Set "
    "base_url in newsgen.yaml to the site's public address (or build with --base-url URL) "
    "before publishing."
)


@pytest.mark.parametrize(
    ("settings", "url"),
    [
        ("", "http://localhost:8000/"),  # base_url unset: the default
        ("base_url: http://127.0.0.1:8080/notizie\n", "http://127.0.0.1:8080/notizie/"),
        ("base_url: http://[::1]/\n", "http://[::1]/"),
        ("base_url: http://news.localhost/\n", "http://news.localhost/"),
    ],
)
def test_a_loopback_base_url_is_noted_after_the_summary(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str], settings: str, url: str
) -> None:
    site = make_site({"seeds/a.txt": "Roma – Un testo.\n", "newsgen.yaml": settings})
    code, _, err = run(capsys, "build", "--site", str(site))
    assert code == 0
    assert err[-2].startswith("Built 1 article, ")
    assert err[-1] == LOCAL_NOTE.format(url=url)
    # Not in a quiet build, nor in one for another address, nor in a preview of drafts.
    assert run(capsys, "build", "--site", str(site), "-q")[2] == []
    public = run(capsys, "build", "--site", str(site), "--base-url", "https://example.org/")
    assert [line for line in public[2] if line.startswith("Note:")] == []
    drafts = run(capsys, "build", "--site", str(site), "--drafts")[2]
    assert not any(line.startswith("Note: absolute URLs") for line in drafts)
