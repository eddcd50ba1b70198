"""`newsgen init` makes a site ready to publish: `--base-url` (checked), a pinned
requirements.txt and a GitHub Pages workflow whose steps are the commands docs/publishing.md
shows, and which run as written in a new site."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from newsgen import __version__, scaffold
from tests.conftest import REPO
from tests.util import in_process

PAGES_URL = "https://someone.github.io/archivio/"
SEEDS = ("000_4c3b1bedbc3a3e95.txt", "001_93c79ed66b531a90.txt", "003_49b68464e704acc7.txt")
NEWSGEN_BIN = Path(sys.executable).parent  # where this venv's `newsgen` script is


def workflow(site: Path) -> dict[Any, Any]:
    data = yaml.safe_load((site / ".github" / "workflows" / "pages.yml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def run_steps(site: Path) -> list[str]:
    steps = workflow(site)["jobs"]["build"]["steps"]
    return [step["run"].strip() for step in steps if "run" in step]


def documented_commands() -> list[str]:
    """The commands docs/publishing.md says the GitHub Pages workflow runs: the first `sh`
    block of its GitHub Pages section."""
    text = (REPO / "docs" / "publishing.md").read_text(encoding="utf-8")
    section = text.split("\n## GitHub Pages\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block
    return block[1].strip().splitlines()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    ran = in_process("init", str(site), "--base-url", "https://news.example.org/archivio")
    assert ran.code == 0, ran.err
    return site


def test_init_base_url_is_written_as_newsgen_yaml_reads_it(site: Path) -> None:
    settings = (site / "newsgen.yaml").read_text(encoding="utf-8")
    assert "\nbase_url: https://news.example.org/archivio/\n" in settings
    assert "localhost" not in settings


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("news.example.org", "expected an absolute http(s) URL such as 'https://example.org/', "
         "got 'news.example.org'"),
        ("ftp://example.org/", "expected an absolute http(s) URL such as "
         "'https://example.org/', got 'ftp://example.org/'"),
        ("https://example.org/?a=1", "a base URL cannot have a query or fragment, got "
         "'https://example.org/?a=1'"),
    ],
)  # fmt: skip
def test_init_refuses_a_base_url_that_is_not_a_site_address(
    tmp_path: Path, given: str, why: str
) -> None:
    ran = in_process("init", str(tmp_path / "site"), "--base-url", given)
    assert (ran.code, ran.out, ran.err) == (2, "", f"Error: --base-url: {why}\n")
    assert not (tmp_path / "site").exists()


def test_the_workflow_parses_and_builds_checks_and_deploys(site: Path) -> None:
    data = workflow(site)
    # YAML 1.1 reads the key `on` as true; GitHub reads it as `on`.
    assert data[True] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    assert data["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build, deploy = data["jobs"]["build"], data["jobs"]["deploy"]
    uses = [step.get("uses", "").split("@")[0] for step in build["steps"]]
    assert [u for u in uses if u] == [
        "actions/checkout",
        "actions/setup-python",
        "actions/configure-pages",
        "actions/cache",
        "actions/upload-pages-artifact",
    ]
    python, cache = build["steps"][1]["with"], build["steps"][3]["with"]
    assert python["python-version"] == scaffold.PYTHON
    assert python["cache-dependency-path"] == "requirements.txt"
    assert cache["path"] == ".newsgen"
    assert cache["key"].startswith(cache["restore-keys"])  # a new key each run, the last restored
    assert build["steps"][-1]["with"] == {"path": "build"}
    assert deploy["needs"] == "build"
    assert [step["uses"].split("@")[0] for step in deploy["steps"]] == ["actions/deploy-pages"]
    env = {step.get("name"): step.get("env") for step in build["steps"]}
    pages = "${{ steps.pages.outputs.base_url }}"
    assert env["Build"] == env["Check"] == {"PAGES_URL": pages}


def test_its_commands_are_the_ones_the_manual_shows(site: Path) -> None:
    assert run_steps(site) == documented_commands()
    assert run_steps(site)[0] == "python -m pip install -r requirements.txt"


def test_its_build_check_and_urls_steps_run_as_written_in_a_new_site(site: Path) -> None:
    """Every step after the install, run by bash as GitHub runs a `run:` step, in a git
    checkout of a new site with three seeds; newsgen is this environment's."""
    for seed in SEEDS:
        shutil.copy(REPO / "seeds" / seed, site / "seeds" / seed)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=site, check=True)
    subprocess.run([*git, "add", "."], cwd=site, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "site"], cwd=site, check=True)
    env = {**os.environ, "PAGES_URL": PAGES_URL, "PATH": f"{NEWSGEN_BIN}:{os.environ['PATH']}"}

    def step(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", command], cwd=site, env=env, capture_output=True, text=True
        )

    _, build, check, urls = run_steps(site)
    built = step(build)
    assert built.returncode == 0, built.stderr
    assert "Note: absolute URLs" not in built.stderr
    assert PAGES_URL + "sitemap.xml" in (site / "build" / "robots.txt").read_text()
    checked = step(check)
    assert (checked.returncode, checked.stdout) == (0, ""), checked.stdout
    assert checked.stderr.rstrip().endswith(": 0 problems.")
    # The build recorded the articles' URLs: not committed, a warning names urls.yaml.
    warned = step(urls)
    assert (warned.returncode, warned.stdout) == (
        0,
        "::warning file=urls.yaml::The build recorded new URLs: build where you edit the "
        "site and commit urls.yaml, or an article renamed later loses its old URL.\n",
    )
    subprocess.run([*git, "add", "urls.yaml"], cwd=site, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "urls"], cwd=site, check=True)
    assert step(urls).stdout == ""


def test_the_build_cache_is_not_committed_but_the_workflow_is(site: Path) -> None:
    ignored = (site / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/.newsgen/" in ignored and "/build/" in ignored
    assert not any(line.startswith("/.github") for line in ignored)


# --- requirements.txt -----------------------------------------------------------------------


def test_requirements_pin_the_newsgen_that_made_the_site(site: Path) -> None:
    lines = (site / "requirements.txt").read_text(encoding="utf-8").splitlines()
    requirement = [line for line in lines if line and not line.startswith("#")]
    assert requirement == [scaffold.pinned_newsgen()[0]]


@pytest.mark.parametrize(
    ("origin", "pin", "noted"),
    [
        (None, f"newsgen=={__version__}", False),  # from a package index
        (
            {
                "url": "https://github.com/someone/newsgen.git",
                "vcs_info": {"vcs": "git", "commit_id": "a" * 40, "requested_revision": "v1"},
            },
            f"newsgen @ git+https://github.com/someone/newsgen.git@{'a' * 40}",
            False,
        ),
        (
            {"url": "https://example.org/newsgen-0.1.0-py3-none-any.whl", "archive_info": {}},
            "newsgen @ https://example.org/newsgen-0.1.0-py3-none-any.whl",
            False,
        ),
        (
            {"url": "file:///home/me/newsgen", "dir_info": {"editable": True}},
            "newsgen==0.1.0",
            True,
        ),
        (
            {"url": "file:///home/me/newsgen", "vcs_info": {"vcs": "git", "commit_id": "b" * 40}},
            "newsgen==0.1.0",
            True,
        ),
    ],
)
def test_the_pin_is_where_a_runner_can_install_from(
    origin: dict[str, Any] | None, pin: str, noted: bool
) -> None:
    found, note = scaffold.pin_from(origin, "0.1.0" if origin and noted else __version__)
    assert found == pin
    assert bool(note) == noted
    if noted:
        assert note.startswith("This newsgen was installed from file:///home/me/newsgen, which")


def test_a_new_site_from_this_checkout_says_its_pin_needs_a_reachable_source(
    tmp_path: Path,
) -> None:
    """The test environment's newsgen is an editable install of the repository (scripts/test):
    a CI runner cannot reach it, and requirements.txt says so above the pin. Run from another
    folder, where the repository's own egg-info is not on the path."""
    text = subprocess.run(
        [sys.executable, "-c", "from newsgen import scaffold; print(scaffold.requirements_text())"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"# This newsgen was installed from {REPO.resolve().as_uri()}, which a CI" in text
    assert text.endswith(f"\nnewsgen=={__version__}\n\n")


STEP_TIMEOUT = 300


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """newsgen's wheel, built from a copy of the package (as tests/test_wheel.py does)."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "newsgen", source / "newsgen", ignore=shutil.ignore_patterns("__pycache__")
    )
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(source)]
    subprocess.run([*command, "-w", str(out)], check=True, timeout=STEP_TIMEOUT)
    (found,) = out.glob("newsgen-*.whl")
    return found


@pytest.mark.slow
def test_its_install_step_installs_newsgen_from_requirements_txt(
    site: Path, wheel: Path, tmp_path: Path
) -> None:
    """The install step as written, in a fresh venv, in the new site: the pin it reads is this
    version, found in a folder holding the wheel just built (as on a runner it would be on the
    package index); the dependencies come from the index."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=STEP_TIMEOUT)
    (site / "requirements.txt").write_text(f"newsgen=={__version__}\n", encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "PIP_FIND_LINKS": str(wheel.parent),
    }
    install = run_steps(site)[0]
    done = subprocess.run(
        ["bash", "-e", "-c", install], cwd=site, env=env, timeout=3 * STEP_TIMEOUT, check=False
    )
    assert done.returncode == 0
    version = subprocess.run(
        [str(venv / "bin" / "newsgen"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout == f"newsgen {__version__}\n"
