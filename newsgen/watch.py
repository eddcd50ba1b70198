"""Watching the sources and rebuilding, for `newsgen serve`.

Two watchfiles watchers feed one queue: the source folders (recursively) and the site folder
itself (not recursively, since it also holds the output, whose writes must not trigger builds),
which sees `newsgen.yaml` and source folders that appear or go. The rebuilder turns a batch of
changes into a build that either replaces the last good one or, when the change broke
something, leaves the output as it was and says why.
"""

from __future__ import annotations

import queue
import threading
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import watchfiles

from newsgen import render
from newsgen.build import CACHE_DIR, build
from newsgen.cache import Cache
from newsgen.config import CONFIG_NAME, Config, ConfigError, site_relative
from newsgen.plan import url_to_path
from newsgen.publish import site_info
from newsgen.records import Problem
from newsgen.result import BuildResult
from newsgen.write import OutputError

SOURCE_KEYS = ("seeds", "articles", "templates")
# watchfiles yields once no new change came for STEP_MS, and at the latest after DEBOUNCE_MS:
# an editor's save (temporary file, rename, chmod) becomes one build.
STEP_MS = 50
DEBOUNCE_MS = 1600
# An empty batch every READY_MS tells that a new watch is in place (and costs nothing).
READY_MS = 100
READY_TIMEOUT = 5.0
STILL_SERVING = "the preview keeps serving the last good build"

Keys = dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rebuilt:
    """A build that replaced the served one. `files` are the output files it changed
    (relative, with forward slashes); None when the output folder itself changed."""

    result: BuildResult
    config: Config
    files: frozenset[str] | None
    first: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed:
    """A change that did not build; the output still holds the last good build."""

    problems: tuple[str, ...]
    detail: str = ""  # a traceback, for failures newsgen did not expect


News = Rebuilt | Failed


class _Either:
    """Set when either event is: watchfiles takes one stop event, a folder watcher has two."""

    def __init__(self, first: threading.Event, second: threading.Event) -> None:
        self.first = first
        self.second = second

    def is_set(self) -> bool:
        return self.first.is_set() or self.second.is_set()


class Watcher:
    """Changed source paths, in batches, until `stop` is set."""

    def __init__(self, root: Path, stop: threading.Event) -> None:
        self.root = root
        self.stop = stop
        self.changes: queue.Queue[set[Path]] = queue.Queue()
        self.folders: tuple[tuple[Path, int], ...] = ()
        self.names: frozenset[str] = frozenset({CONFIG_NAME})
        self.restart = threading.Event()
        ready = threading.Event()
        self.threads = [self._spawn(self._watch_root, ready)]
        ready.wait(READY_TIMEOUT)

    def follow(self, config: Config) -> None:
        """Watch the source folders of `config`: again when they changed, appeared or went."""
        folders = [config.source_dir(key) for key in SOURCE_KEYS]
        self.names = frozenset({CONFIG_NAME, *(f.name for f in folders if f.parent == self.root)})
        # The inode too: a folder deleted and made again needs a new watch.
        existing = tuple((f, inode) for f in folders if (inode := _folder_inode(f)))
        if existing == self.folders:
            return
        self.restart.set()
        self.restart = threading.Event()
        self.folders = existing
        if existing:
            paths, ready = tuple(f for f, _ in existing), threading.Event()
            self.threads.append(self._spawn(self._watch_folders, paths, self.restart, ready))
            # Changes saved before the watch is in place would be missed.
            ready.wait(READY_TIMEOUT)

    def next(self, timeout: float) -> set[Path]:
        """Paths changed since the last call, waiting up to `timeout` seconds for the first."""
        try:
            paths = set(self.changes.get(timeout=timeout))
        except queue.Empty:
            return set()
        while True:
            try:
                paths |= self.changes.get_nowait()
            except queue.Empty:
                return paths

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=2)

    def _spawn(self, target: Callable[..., None], *args: object) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, daemon=True, name="newsgen-watch")
        thread.start()
        return thread

    def _watch_root(self, ready: threading.Event) -> None:
        def wanted(change: watchfiles.Change, path: str) -> bool:
            return Path(path).name in self.names

        self._pump((self.root,), wanted, recursive=False, stop=self.stop, ready=ready)

    def _watch_folders(
        self, folders: tuple[Path, ...], restart: threading.Event, ready: threading.Event
    ) -> None:
        stop = _Either(self.stop, restart)
        self._pump(folders, watchfiles.DefaultFilter(), recursive=True, stop=stop, ready=ready)

    def _pump(
        self,
        paths: tuple[Path, ...],
        wanted: Callable[[watchfiles.Change, str], bool],
        *,
        recursive: bool,
        stop: threading.Event | _Either,
        ready: threading.Event,
    ) -> None:
        try:
            for batch in watchfiles.watch(
                *paths,
                watch_filter=wanted,
                recursive=recursive,
                stop_event=stop,
                step=STEP_MS,
                debounce=DEBOUNCE_MS,
                rust_timeout=READY_MS,
                yield_on_timeout=True,
                raise_interrupt=False,
            ):
                ready.set()  # the first (empty) batch comes once the watch is in place
                if batch:
                    self.changes.put({Path(path) for _, path in batch})
        except OSError:
            # A folder went away while being watched: report it as changed, so that the
            # rebuild notices and `follow` watches what exists now.
            ready.set()
            self.changes.put(set(paths))


def _folder_inode(path: Path) -> int:
    """The inode of a folder; 0 when there is no folder there (any more)."""
    try:
        return path.stat().st_ino if path.is_dir() else 0
    except OSError:
        return 0


class Rebuilder:
    """Builds on demand and tells `publish` what changed in the output, or why nothing did."""

    def __init__(
        self,
        load: Callable[[], Config],
        *,
        root: Path,
        jobs: int,
        strict: bool,
        publish: Callable[[News], None],
    ) -> None:
        self.load = load
        self.root = root
        self.jobs = jobs
        self.strict = strict
        self.publish = publish
        self.pending: set[str] = set()  # sources changed since the last good build
        self.output: Path | None = None
        self.keys: Keys = {}

    def first(self, config: Config) -> None:
        """The build before serving: it writes whatever it can, like `newsgen build`."""
        self.output = config.output_dir
        self._build(config, first=True)

    def reconfigure(self, changed: Iterable[Path]) -> Config | None:
        """Note `changed`; the configuration to build with, or None when it is broken."""
        self.pending |= {site_relative(path, self.root) for path in changed}
        try:
            return self.load()
        except ConfigError as exc:
            self.publish(Failed(problems=tuple(exc.problems)))
            return None

    def rebuild(self, config: Config) -> None:
        self._build(config, first=False)

    def _build(self, config: Config, *, first: bool) -> None:
        broken = render.template_problems(config, site_info(config))
        if broken:
            self.publish(Failed(problems=tuple(str(p) for p in broken)))
            return
        held: list[Problem] = []

        def hold(problems: Sequence[Problem]) -> bool:
            held.extend(p for p in problems if self._breaks(p))
            return bool(held)

        try:
            result = build(config, jobs=self.jobs, drafts=True, hold=None if first else hold)
        except jinja2.TemplateError as exc:
            self.publish(Failed(problems=(str(render.template_failure(exc, config)),)))
            return
        except OutputError as exc:
            if first:
                raise
            self.publish(Failed(problems=(str(exc),)))
            return
        except Exception as exc:
            # A preview must outlive a failed rebuild, whatever failed: the error is shown in
            # full, and the next change builds again.
            message = f"the build failed: {type(exc).__name__}: {exc}"
            self.publish(Failed(problems=(message,), detail=traceback.format_exc()))
            return
        if held:
            self.publish(Failed(problems=tuple(str(p) for p in held)))
            return
        self._done(result, config, first=first)

    def _breaks(self, problem: Problem) -> bool:
        """A problem in a file changed since the last good build: that change is not served."""
        serious = problem.level == "error" or self.strict
        return serious and problem.path in self.pending

    def _done(self, result: BuildResult, config: Config, *, first: bool) -> None:
        self.pending.clear()
        after = output_keys(config)
        files = changed_files(self.keys, after) if config.output_dir == self.output else None
        self.output, self.keys = config.output_dir, after
        self.publish(Rebuilt(result=result, config=config, files=files, first=first))


def rebuild_on_changes(watcher: Watcher, rebuilder: Rebuilder, stop: threading.Event) -> None:
    """Rebuild after every batch of changes until `stop` is set."""
    while not stop.is_set():
        changed = watcher.next(timeout=0.25)
        config = rebuilder.reconfigure(changed) if changed else None
        if config is not None:
            # Before building: a folder that just appeared is watched before it is read.
            watcher.follow(config)
            rebuilder.rebuild(config)


def output_keys(config: Config) -> Keys:
    """The key of every file the last build wrote, by URL, as the build's cache records them:
    a page whose key changed was written again. (Reading them costs milliseconds; walking an
    output folder of 10,000 pages costs half a second.)"""
    cache = Cache(config.root / CACHE_DIR / "cache.sqlite")
    try:
        return cache.outputs(str(config.output_dir))
    finally:
        cache.close()


def changed_files(before: Keys, after: Keys) -> frozenset[str]:
    """Output files (relative paths) written or removed between two builds."""
    urls = {u for u in before.keys() | after.keys() if before.get(u) != after.get(u)}
    return frozenset(url_to_path(u) for u in urls)
