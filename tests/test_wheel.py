"""The slow wheel test: `pip wheel .`, installed in a fresh virtual environment outside the
repository, runs the whole editorial workflow with the theme that ships inside the package.

Installing pulls newsgen's dependencies from PyPI (or pip's cache): allow a few minutes.
Deselect with `-m "not slow"`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

SEEDS = ("000_4c3b1bedbc3a3e95.txt", "001_93c79ed66b531a90.txt", "003_49b68464e704acc7.txt")
BELGIO = "il-governo-federale-del-belgio-ha-annunciato-che-espellera-21-diplomatici-russi"
TEHERAN = "plusieurs-milliers-de-personnes-se-sont-rassemblees-vendredi-dans-le-centre-de"
SARS = "on-thursday-the-total-number-of-cases-of-the-sars-cov-2-coronavirus-infections"
STEP_TIMEOUT = 300


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/lib inside the project it builds, and the
    # repository's build/ is the demo site's output folder.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "newsgen", source / "newsgen", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(source), "-w", str(out)],
        check=True,
        timeout=STEP_TIMEOUT,
    )
    (found,) = out.glob("newsgen-*.whl")
    return found


@pytest.fixture(scope="module")
def newsgen(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `newsgen` script of a fresh venv where only the wheel (and its dependencies) is
    installed."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=STEP_TIMEOUT)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        timeout=3 * STEP_TIMEOUT,
    )
    return venv / "bin" / "newsgen"


def test_wheel_holds_every_theme_file(wheel: Path) -> None:
    theme = REPO / "newsgen" / "theme"
    files = {
        f"newsgen/theme/{p.relative_to(theme).as_posix()}"
        for p in theme.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("newsgen/theme/")}
    assert shipped == files
    # The files an earlier package-data pattern left out of the wheel:
    assert {
        "newsgen/theme/templates/robots.txt",
        "newsgen/theme/templates/partials/footer.html",
        "newsgen/theme/static/assets/style.css",
        "newsgen/theme/static/assets/icon.svg",
    } <= shipped


class Runner:
    """Runs the installed `newsgen` in a folder outside the repository."""

    def __init__(self, script: Path, cwd: Path) -> None:
        self.script = script
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.script), *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )

    def ok(self, *args: str) -> str:
        done = self(*args)
        assert done.returncode == 0, f"newsgen {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout


def everything(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_installed_wheel_runs_the_editorial_workflow(newsgen: Path, tmp_path: Path) -> None:
    python = newsgen.parent / "python"
    where = subprocess.run(
        [str(python), "-c", "import newsgen; print(newsgen.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(where.strip()).is_relative_to(newsgen.parent.parent)

    run = Runner(newsgen, tmp_path)
    assert run.ok("init", "site").startswith("Created a new site in site:\n")
    site = tmp_path / "site"
    run = Runner(newsgen, site)
    run.ok("build", "--strict")
    build = site / "build"
    for name in ("index.html", "favicon.ico", "robots.txt", "_headers"):
        assert (build / name).is_file(), name
    # The theme's assets ship in the wheel, published under names of their content.
    for pattern in ("assets/style.*.css", "assets/icon.*.svg"):
        assert len(list(build.glob(pattern))) == 1, pattern

    for seed in SEEDS:
        shutil.copy(REPO / "seeds" / seed, site / "seeds" / seed)
    run.ok("build", "--strict")
    for slug in (BELGIO, TEHERAN, SARS):
        assert (build / "articles" / slug / "index.html").is_file()

    assert run.ok("new", "Titolo di prova") == "articles/titolo-di-prova.md\n"
    refused = run("new", "Titolo di prova")
    assert (refused.returncode, refused.stdout, refused.stderr) == (
        1,
        "",
        "Error: articles/titolo-di-prova.md already exists; choose another title, or a file "
        "name with --slug\n",
    )

    assert run.ok("import") == (
        f"wrote articles/{BELGIO}.md from seeds/{SEEDS[0]}\n"
        f"wrote articles/{TEHERAN}.md from seeds/{SEEDS[1]}\n"
        f"wrote articles/{SARS}.md from seeds/{SEEDS[2]}\n"
        "Imported 3 seeds: 3 written, 0 skipped.\n"
    )
    assert run.ok("import", f"seeds/{SEEDS[1]}") == (
        f"skipped seeds/{SEEDS[1]}: already curated by articles/{TEHERAN}.md; use --force to "
        "replace it\nImported 1 seed: 0 written, 1 skipped.\n"
    )
    curated = site / "articles" / f"{TEHERAN}.md"
    assert "source: seeds/001_93c79ed66b531a90.txt\n" in curated.read_text()
    assert "date: 2012-11-02\n" in curated.read_text()

    run.ok("build", "--strict")
    assert "titolo-di-prova" not in everything(build)
    assert "Titolo di prova" not in everything(build)
    assert not (build / "_redirects").exists()

    text = curated.read_text()
    curated.write_text(
        "\n".join(
            "title: Manifestazione a Teheran" if line.startswith("title:") else line
            for line in text.split("\n")
        )
    )
    run.ok("build", "--strict")
    old = build / "articles" / TEHERAN / "index.html"
    assert '<meta http-equiv="refresh" content="0; url=/articles/manifestazione-a-teheran/">' in (
        old.read_text()
    )
    assert (build / "articles" / "manifestazione-a-teheran" / "index.html").is_file()
    assert (build / "_redirects").read_text() == (
        f"/articles/{TEHERAN}/ /articles/manifestazione-a-teheran/ 301\n"
    )
    registry = (site / "urls.yaml").read_text()
    assert (
        f'"93c79ed66b531a90":\n- /articles/manifestazione-a-teheran/\n- /articles/{TEHERAN}/\n'
        in registry
    )

    run.ok("build", "--drafts")
    draft = (build / "articles" / "titolo-di-prova" / "index.html").read_text()
    assert '<p class="draft" role="note" lang="en" dir="ltr"><strong>Draft</strong></p>' in draft
    assert (site / "urls.yaml").read_text() == registry
    run.ok("build", "--strict")
    assert "titolo-di-prova" not in everything(build)
