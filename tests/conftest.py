"""Shared fixtures: one-case sites made on the fly, and a sample site built once per session."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from newsgen import langmodel, load
from newsgen.build import BuildResult, build
from newsgen.config import Config, load_config

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "000_4c3b1bedbc3a3e95.txt"
SAMPLE = Path(__file__).resolve().parent / "data" / "sample"

MakeSite = Callable[..., Path]


# --- isolation: no test reads or writes the user's cache folder, nor inherits process state ---


@pytest.fixture(scope="session")
def _unpacked_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The language model unpacked once (0.75 s) into a folder of the suite's own."""
    folder = tmp_path_factory.mktemp("model")
    langmodel.load(folder)
    return folder


def _cache_folder(model: Path, home: Path) -> Iterator[None]:
    """`home` as `$XDG_CACHE_HOME`, with the model's files linked in and nothing else (no
    weekday names left by another test), and no weekday names in this process."""
    shutil.copytree(model, home / "newsgen", copy_function=os.link)
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(home)
    load._Weekdays.names = None
    try:
        yield
    finally:
        load._Weekdays.names = None
        if saved is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = saved


@pytest.fixture(scope="session", autouse=True)
def _suite_cache_folder(
    _unpacked_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """For the fixtures shared by many tests (the sample site), built before any test's own."""
    yield from _cache_folder(_unpacked_model, tmp_path_factory.mktemp("xdg-suite"))


@pytest.fixture(autouse=True)
def _own_cache_folder(
    _unpacked_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Every test's own."""
    yield from _cache_folder(_unpacked_model, tmp_path_factory.mktemp("xdg-cache"))


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis keeps its examples and caches in the run's temporary folder, not in
    .hypothesis/ of the working folder: no run writes into the repository or replays what an
    earlier run found. (Set before collection: importing a test module fills a cache.)"""
    factory: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
    set_hypothesis_home_dir(factory.mktemp("hypothesis"))
    # A suite started in the background by a shell without job control (`./scripts/test &`
    # in a script) inherits Ctrl-C ignored, and so would every newsgen it starts: those the
    # tests interrupt would never stop. With a handler here, they start with the default.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _own_temp_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test's own temporary folder, for this process and the processes it starts: what
    newsgen puts there (the lock of a site it cannot write) stays out of the system's."""
    folder = str(tmp_path_factory.mktemp("tmp"))
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"], tempfile.tempdir = folder, folder
    try:
        yield
    finally:
        tempfile.tempdir = None
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved


@pytest.fixture
def make_site(tmp_path: Path) -> MakeSite:
    """`make_site({"seeds/a.txt": "…", "newsgen.yaml": "…"})` writes a site folder (str values
    as UTF-8, bytes as they are) and returns its path."""

    def make(files: dict[str, str | bytes], root: Path | None = None) -> Path:
        site = root or tmp_path / "site"
        for name, content in files.items():
            path = site / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        (site / "seeds").mkdir(parents=True, exist_ok=True)
        return site

    return make


def build_site(site: Path, **overrides: object) -> tuple[Config, BuildResult]:
    config = load_config(site, dict(overrides))
    return config, build(config, jobs=1)


def copy_demo_site(destination: Path) -> Path:
    """The repository's own site (seeds, articles, templates, URL registry), copied so that a
    build writes its cache and output outside the repository."""
    for folder in ("seeds", "articles", "templates"):
        shutil.copytree(REPO / folder, destination / folder)
    shutil.copy(REPO / "urls.yaml", destination / "urls.yaml")
    return destination


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, BuildResult]:
    """tests/data/sample (seed document, real articles in it/en/fr/de, curated articles),
    built once under a sub-path base URL."""
    site = tmp_path_factory.mktemp("sample") / "site"
    shutil.copytree(SAMPLE, site)
    return build_site(site)


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """Replaces pytest-playwright's fallback `base_url` fixture, a session fixture defined as
    an instance method, which pytest 9.2 deprecates (an error under filterwarnings=error).
    The browser tests give Playwright full URLs."""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, object], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, object]:
    """Playwright drives Debian's Chromium (never a downloaded browser)."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-breakpad",
        ],
        # Its crash reports' settings go to $XDG_CONFIG_HOME/chromium, not the user's.
        "env": {**os.environ, "XDG_CONFIG_HOME": str(tmp_path_factory.mktemp("xdg-config"))},
    }


# --- skipped tests fail the run ---------------------------------------------------------------

# A test that skips guards nothing, and a green run must not hide that: every skip fails the
# session unless the test is listed here with the reason it may skip (none may today: the test
# command installs every tool the suite needs, and CI runs as root, which can mount).
ALLOWED_SKIPS: dict[str, str] = {}
_SKIPPED: list[tuple[str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and report.nodeid not in ALLOWED_SKIPS:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append((report.nodeid, reason))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SKIPPED and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for nodeid, reason in _SKIPPED:
        terminalreporter.write_line(
            f"FAILED (skipped, and not in tests/conftest.py ALLOWED_SKIPS): {nodeid}: {reason}",
            red=True,
        )
