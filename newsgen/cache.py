"""The build cache: one SQLite file in `<site>/.newsgen/`, keyed by content hashes.

It remembers the hash of each source file (by size and mtime, as git does), the enriched
article of each unchanged input, article bodies, and the key of every page written, so an
unchanged input is never parsed again and an unchanged page never rendered again. A cache
from another newsgen version, or one that SQLite cannot read, is discarded, never trusted.
Output folders are named by their path relative to the site folder, so that a site copied or
moved keeps its cache.

Beside it, `lock`: one build at a time on a site (see `site_lock`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pickle
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

from newsgen import __version__
from newsgen.markup import split_body
from newsgen.records import Article, Image, Problem

SCHEMA = "10"


def _code_fingerprint() -> str:
    """newsgen's version and the hash of its own source: cached work made by other code is
    never reused (a development checkout changes code without changing the version)."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


CODE = _code_fingerprint()
_OUTPUT_URLS = "SELECT url FROM outputs WHERE output = ?"
_URLS_BELOW = "SELECT url FROM outputs WHERE output = ? AND url >= ? AND url < ?"
_BATCH = 500
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,
                                  sha TEXT);
CREATE TABLE IF NOT EXISTS units (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS bodies (key TEXT PRIMARY KEY, html TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outputs (output TEXT, url TEXT, key TEXT,
                                    PRIMARY KEY (output, url));
CREATE TABLE IF NOT EXISTS builds (output TEXT PRIMARY KEY, state TEXT, result BLOB,
                                   marker TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS languages (sample TEXT PRIMARY KEY, lang TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memos (name TEXT PRIMARY KEY, key TEXT NOT NULL, value BLOB);
CREATE TABLE IF NOT EXISTS placed (path TEXT PRIMARY KEY, unit_order TEXT NOT NULL,
                                   unit TEXT NOT NULL, body TEXT NOT NULL,
                                   position INTEGER NOT NULL, slug TEXT NOT NULL,
                                   live INTEGER NOT NULL, prev TEXT NOT NULL, next TEXT NOT NULL,
                                   urls BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS placed_body ON placed (body);
CREATE TABLE IF NOT EXISTS pages (url TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sources (path TEXT PRIMARY KEY, sha TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS touched (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS blocks (mark TEXT PRIMARY KEY, paths TEXT NOT NULL,
                                   shas TEXT NOT NULL);
"""


UNREADABLE = "build cache unreadable, rebuilding from scratch"
OTHER_VERSION = "build cache written by another newsgen version, rebuilding from scratch"
# How long a connection waits for another's write to end. Builds never share a cache (see
# `site_lock`); `newsgen serve` reads what its last build wrote while another may write.
BUSY_SECONDS = 60.0


def output_name(output: str | Path, root: str | Path) -> str:
    """How the cache names an output folder: its path relative to the site folder `root`
    (a site moved or copied keeps its records), with `/` between names."""
    return Path(os.path.relpath(os.path.abspath(output), os.path.abspath(root))).as_posix()


class Cache:
    """A thin, typed face over the SQLite file. Not shared across processes: workers open
    their own read-only `BodyReader`. `root` is the site folder, which output folders are
    named relative to (by default, the folder above the cache's)."""

    def __init__(self, path: Path, root: Path | None = None) -> None:
        self.path = path
        self.root = os.path.abspath(root or path.parent.parent)
        # The note to show when an earlier cache was thrown away, "" when none was.
        self.discarded = ""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = self._open()
        # Rows to insert, written in batches: a statement per article cost more than SQLite's
        # own work on a cold build.
        # Units enriched while this cache was open (a build that starts a rebuild and falls
        # back to a full one counts them once).
        self.enriched: set[str] = set()
        self.pending: dict[str, list[tuple[str, object]]] = {
            "units": [],
            "bodies": [],
            "languages": [],
        }

    def _open(self) -> sqlite3.Connection:
        """The cache as it is, or a new one in place of a cache from another version or one
        that cannot be read. Errors that say the disk cannot be written are raised."""
        db = None
        try:
            db = self._connect()
            found = dict(db.execute("SELECT name, value FROM meta").fetchall())
            if found.get("schema") == SCHEMA and found.get("version") == __version__:
                return db
            if found:
                self.discarded = OTHER_VERSION
        except sqlite3.DatabaseError as exc:
            if failure(exc) != "unreadable":
                raise
            self.discarded = UNREADABLE
        if db is not None:
            db.close()
        remove_files(self.path)
        db = self._connect()
        db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [("schema", SCHEMA), ("version", __version__)],
        )
        db.commit()
        return db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_SECONDS)
        # Pages that hold a whole article body (a few kB): with SQLite's default 4 kB pages
        # most bodies spilled into overflow chains, and storing 10k of them took 2.5 times
        # as long. Takes effect when the file is made.
        db.execute("PRAGMA page_size=16384")
        # A rollback journal, not WAL: a cold build writes tens of megabytes of bodies, and
        # WAL writes them twice (log, then checkpoint), which tripled the cost of storing them.
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(_TABLES)
        return db

    def output_name(self, output: str) -> str:
        return output_name(output, self.root)

    def close(self) -> None:
        self.commit()
        self.db.close()

    # files ---------------------------------------------------------------------------------

    def file_hashes(self) -> dict[str, tuple[str, int, int, str]]:
        """Every file's row (path, size, mtime_ns, sha), by path."""
        rows = self.db.execute("SELECT path, size, mtime_ns, sha FROM files")
        return {row[0]: row for row in rows}

    def update_file_hashes(
        self, changed: Iterable[tuple[str, int, int, str]], gone: Iterable[str]
    ) -> None:
        """Record new or changed files as (path, size, mtime_ns, sha) and forget `gone` paths.
        Each path is also marked touched (see `touched`), in the same transaction."""
        rows, paths = list(changed), list(gone)
        self.db.executemany("DELETE FROM files WHERE path = ?", ((path,) for path in paths))
        self.db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", rows)
        touched = [(row[0],) for row in rows] + [(path,) for path in paths]
        self.db.executemany("INSERT OR IGNORE INTO touched VALUES (?)", touched)

    def file_rows(self, paths: Iterable[str]) -> dict[str, tuple[str, int, int, str]]:
        """The rows of the files at `paths` that have one, by path."""
        found: dict[str, tuple[str, int, int, str]] = {}
        for chunk in _chunks(list(paths), 900):
            marks = ",".join("?" * len(chunk))
            query = f"SELECT path, size, mtime_ns, sha FROM files WHERE path IN ({marks})"
            found.update((row[0], row) for row in self.db.execute(query, chunk))
        return found

    # the blocks of the last scan's listing (see newsgen.collect.Listed) ------------------------

    def block_marks(self) -> set[str]:
        return {mark for (mark,) in self.db.execute("SELECT mark FROM blocks")}

    def block_shas(self, marks: Iterable[str]) -> dict[str, list[str]]:
        """The hashes of the files of each block at `marks`, in listing order, by mark."""
        found: dict[str, list[str]] = {}
        for chunk in _chunks(list(marks), 900):
            query = f"SELECT mark, shas FROM blocks WHERE mark IN ({','.join('?' * len(chunk))})"
            found.update((mark, shas.split("\n")) for mark, shas in self.db.execute(query, chunk))
        return found

    def block_paths(self, marks: Iterable[str]) -> list[str]:
        """The paths of the files of the blocks at `marks`."""
        found: list[str] = []
        for chunk in _chunks(list(marks), 900):
            query = f"SELECT paths FROM blocks WHERE mark IN ({','.join('?' * len(chunk))})"
            for (paths,) in self.db.execute(query, chunk):
                found += paths.split("\0") if paths else []
        return found

    def replace_blocks(self, gone: Iterable[str], new: Iterable[tuple[str, str, str]]) -> None:
        """Forget the blocks at the marks `gone`; add `new` ones as (mark, paths, shas)."""
        self.db.executemany("DELETE FROM blocks WHERE mark = ?", ((mark,) for mark in gone))
        self.db.executemany("INSERT OR REPLACE INTO blocks VALUES (?, ?, ?)", new)

    def settle_block(self, pending: str, mark: str, shas: str) -> None:
        """Give the block recorded at `pending` its `mark` and hashes."""
        self.db.execute(
            "UPDATE blocks SET mark = ?, shas = ? WHERE mark = ?", (mark, shas, pending)
        )

    # the sources a plan was made from --------------------------------------------------------

    def touched(self) -> list[str]:
        """The files whose row `update_file_hashes` changed or removed since the sources
        were last remembered: every other file is as `remembered_sources` has it, so a
        rebuild compares these few instead of every file of the archive."""
        return sorted(path for (path,) in self.db.execute("SELECT path FROM touched"))

    def remembered_sources(self, paths: Iterable[str]) -> dict[str, str]:
        """The hash each of `paths` had when the sources were last remembered, by path (a
        path missing was not a source then)."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(set(paths)), 900):
            marks = ",".join("?" * len(chunk))
            query = f"SELECT path, sha FROM sources WHERE path IN ({marks})"
            found.update(self.db.execute(query, chunk))
        return found

    def remember_sources(self, shas: Mapping[str, str], *, whole: bool) -> None:
        """Remember the sources a plan was made from: all of them (`whole`), or the hashes
        that changed since the last time; and mark no file touched."""
        if whole:
            self.db.execute("DELETE FROM sources")
        self.db.executemany("INSERT OR REPLACE INTO sources VALUES (?, ?)", sorted(shas.items()))
        self.db.execute("DELETE FROM touched")

    # units and bodies ----------------------------------------------------------------------

    def units(self, keys: Iterable[str]) -> dict[str, object]:
        """Cached values for the keys that have one; a value that cannot be read is a miss."""
        self._flush()
        wanted = list(keys)
        found: dict[str, object] = {}
        for key, blob in self._rows(wanted):
            with contextlib.suppress(Exception):
                found[key] = pickle.loads(blob)
        return found

    def _rows(self, wanted: list[str]) -> Iterator[tuple[str, bytes]]:
        # Most of a site is wanted on every build: one pass over the table reads it in file
        # order, where a lookup per key (in chunks of IN lists) reads it in key order.
        if len(wanted) > 2000 and len(wanted) > self._size("units") // 4:
            keep = set(wanted)
            yield from (
                (k, v) for k, v in self.db.execute("SELECT key, value FROM units") if k in keep
            )
            return
        for chunk in _chunks(wanted, 900):
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(
                f"SELECT key, value FROM units WHERE key IN ({marks})", chunk
            )

    def _size(self, table: str) -> int:
        """About how many rows `table` has, without counting them."""
        (rowid,) = self.db.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()
        return int(rowid)

    def put_unit(self, key: str, value: object, body_key: str = "", body_html: str = "") -> None:
        self._put("units", key, pickled(value))
        if body_key:
            self._put("bodies", body_key, body_html)

    def _put(self, table: str, key: str, value: object) -> None:
        rows = self.pending[table]
        rows.append((key, value))
        if len(rows) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        for table, rows in self.pending.items():
            verb = "INSERT OR IGNORE" if table == "bodies" else "INSERT OR REPLACE"
            self.db.executemany(f"{verb} INTO {table} VALUES (?, ?)", rows)
            rows.clear()

    def articles(self, keys: Iterable[str]) -> dict[str, Packed]:
        """Cached enrichments (as `pack` made them) by unit key."""
        return cast(dict[str, Packed], self.units(keys))

    def holds_units(self) -> bool:
        """Whether any enrichment is cached (a first build has none)."""
        return self.db.execute("SELECT 1 FROM units LIMIT 1").fetchone() is not None

    def put_article(self, key: str, packed: bytes, body_key: str, body: str) -> None:
        """Store an enrichment as `pickled(pack(...))` made it (in a worker), with its body
        as `stored_body` made it."""
        self.enriched.add(key)
        self._put("units", key, packed)
        if body_key:
            self._put("bodies", body_key, body)

    def prune(self, unit_keys: Iterable[str], body_keys: Iterable[str]) -> None:
        """Forget units and bodies the current site no longer has, once they are more than a
        tenth of the cache: an edit leaves one stale row, and rewriting the key tables on every
        build to drop it cost more than the rest of the cache work of a one-edit rebuild."""
        self._flush()
        for table, keys in (("units", set(unit_keys)), ("bodies", set(body_keys))):
            (rows,) = self.db.execute(f"SELECT count(*) FROM {table}").fetchone()
            if rows <= len(keys) * 1.1 + 100:
                continue
            self.db.execute(f"CREATE TEMP TABLE IF NOT EXISTS keep_{table} (key TEXT PRIMARY KEY)")
            self.db.execute(f"DELETE FROM keep_{table}")
            self.db.executemany(f"INSERT INTO keep_{table} VALUES (?)", ((k,) for k in keys))
            self.db.execute(f"DELETE FROM {table} WHERE key NOT IN (SELECT key FROM keep_{table})")

    # outputs -------------------------------------------------------------------------------

    def outputs(self, output: str) -> dict[str, str]:
        name = self.output_name(output)
        rows = self.db.execute("SELECT url, key FROM outputs WHERE output = ?", (name,))
        return dict(rows.fetchall())

    def output_urls(self, output: str, under: Collection[str] | None = None) -> list[str]:
        """The URLs recorded in `output`: all of them, or (with `under`, folders relative to
        it) those below these folders, by a range of the index each."""
        name = self.output_name(output)
        if under is None:
            return [url for (url,) in self.db.execute(_OUTPUT_URLS, (name,))]
        found: list[str] = []
        for folder in sorted(under):
            # "0" is the character after "/": the range holds every URL that begins "/folder/".
            low, high = f"/{folder}/", f"/{folder}0"
            found += (url for (url,) in self.db.execute(_URLS_BELOW, (name, low, high)))
        return found

    def recorded(self, output: str) -> Recorded:
        """The outputs of `output` as they are recorded now, read as they are asked for."""
        return Recorded(self, output)

    def set_outputs(
        self, output: str, keys: dict[str, str], previous: Mapping[str, str] | None = None
    ) -> None:
        """Record the key of every file in `output`, writing only what differs from
        `previous` (the last build's record, when the caller has it)."""
        name = self.output_name(output)
        if previous is not None:
            gone = [(name, url) for url in previous.keys() - keys.keys()]
            changed = [(name, u, k) for u, k in keys.items() if previous.get(u) != k]
            self.db.executemany("DELETE FROM outputs WHERE output = ? AND url = ?", gone)
            self.db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)", changed)
            return
        self.db.execute("DELETE FROM outputs WHERE output = ?", (name,))
        self.db.executemany(
            "INSERT INTO outputs VALUES (?, ?, ?)",
            ((name, url, key) for url, key in sorted(keys.items())),
        )

    def forget_outputs(self, output: str, urls: Iterable[str]) -> None:
        """Record that the files at `urls` are about to be replaced, and commit: a build
        killed while it renames them leaves each one old or new, and the next build, not
        knowing which, writes it again (or removes it)."""
        name = self.output_name(output)
        self.db.executemany(
            "INSERT OR REPLACE INTO outputs VALUES (?, ?, '')", ((name, url) for url in urls)
        )
        self.commit()

    def set_variants(self, output: str, names: Iterable[str], stamp: str) -> None:
        """Record the image variants in `output` (see publish.sync_variants): one row for
        tens of thousands of files, which no rebuild checks one by one; and the stamp of
        their folder as it holds them (see publish.variants_in_place)."""
        text = "\n".join(sorted(names))
        digest = hashlib.sha256(text.encode()).hexdigest()[:32] if text else ""
        self.db.execute(
            "INSERT OR REPLACE INTO memos VALUES (?, ?, ?)",
            (_variants_memo(self.output_name(output)), digest, text.encode()),
        )
        self.set_variants_stamp(output, stamp)

    def variants_stamp(self, output: str) -> str:
        memo = _variants_memo(self.output_name(output), "variant-stamp")
        row = self.db.execute("SELECT key FROM memos WHERE name = ?", (memo,)).fetchone()
        return "" if row is None else str(row[0])

    def set_variants_stamp(self, output: str, stamp: str) -> None:
        memo = _variants_memo(self.output_name(output), "variant-stamp")
        self.db.execute("INSERT OR REPLACE INTO memos VALUES (?, ?, NULL)", (memo, stamp))

    def variants(self, output: str) -> tuple[str, list[str]]:
        """The digest and the names of the variants recorded in `output` ("" and none when
        none are)."""
        memo = _variants_memo(self.output_name(output))
        row = self.db.execute("SELECT key, value FROM memos WHERE name = ?", (memo,)).fetchone()
        if row is None or not row[1]:
            return "", []
        return str(row[0]), bytes(row[1]).decode().split("\n")

    def variants_digest(self, output: str) -> str:
        """The digest of the variants recorded in `output`, without their names."""
        memo = _variants_memo(self.output_name(output))
        row = self.db.execute("SELECT key FROM memos WHERE name = ?", (memo,)).fetchone()
        return "" if row is None else str(row[0])

    # the last plan, for rebuilds that only replace articles (see newsgen.delta) -------------

    def set_plan(self, placed: Iterable[Placed], pages: Iterable[tuple[str, bytes]]) -> None:
        """Replace the recorded plan: every article's row and every packed listing page."""
        self._flush()
        self.db.execute("DELETE FROM placed")
        self.db.execute("DELETE FROM pages")
        self.db.executemany(f"INSERT INTO placed VALUES ({_PLACED_MARKS})", placed)
        self.db.executemany("INSERT INTO pages VALUES (?, ?)", pages)

    def placed(self, column: str, values: Iterable[str]) -> list[Placed]:
        """The article rows whose `column` (path, unit_order, body or slug) is one of
        `values`. Only paths and bodies are indexed: the others are for a few values."""
        assert column in Placed._fields
        found: list[Placed] = []
        for chunk in _chunks(sorted(set(values)), 900):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT * FROM placed WHERE {column} IN ({marks})", chunk)
            found += (Placed(*row) for row in rows)
        return found

    def all_placed(self) -> list[Placed]:
        return [Placed(*row) for row in self.db.execute("SELECT * FROM placed ORDER BY position")]

    def replace_placed(self, rows: Iterable[Placed]) -> None:
        self.db.executemany(f"INSERT OR REPLACE INTO placed VALUES ({_PLACED_MARKS})", rows)

    def pages(self, urls: Iterable[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for chunk in _chunks(sorted(set(urls)), 900):
            marks = ",".join("?" * len(chunk))
            found.update(self.db.execute(f"SELECT * FROM pages WHERE url IN ({marks})", chunk))
        return found

    # languages -------------------------------------------------------------------------------

    def languages(self) -> dict[str, str]:
        self._flush()
        return dict(self.db.execute("SELECT sample, lang FROM languages").fetchall())

    def language_lookup(self) -> Mapping[str, str]:
        """Detected languages looked up one by one: a rebuild that reads a few articles need
        not load every detection the site ever made. Not for use across a fork."""
        return _Languages(self)

    def put_language(self, sample: str, lang: str) -> None:
        self._put("languages", sample, lang)

    # memos: one derived value per name, valid for one key ---------------------------------

    def recall(self, name: str, key: str) -> object | None:
        row = self.db.execute("SELECT key, value FROM memos WHERE name = ?", (name,)).fetchone()
        if row is None or row[0] != key:
            return None
        with contextlib.suppress(Exception):
            return cast(object, pickle.loads(row[1]))
        return None

    def forget(self, name: str) -> None:
        self.db.execute("DELETE FROM memos WHERE name = ?", (name,))

    def remember(self, name: str, key: str, value: object) -> None:
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self.db.execute("INSERT OR REPLACE INTO memos VALUES (?, ?, ?)", (name, key, blob))

    # builds ----------------------------------------------------------------------------------

    def last_build(self, output: str, state: str | None) -> object | None:
        """The result of the last build into `output` when it finished from the same inputs
        (from any inputs, when `state` is None)."""
        row = self.db.execute(
            "SELECT state, result FROM builds WHERE output = ?", (self.output_name(output),)
        ).fetchone()
        if row is None or row[1] is None or state not in (None, row[0]):
            return None
        with contextlib.suppress(Exception):
            return cast(object, pickle.loads(row[1]))
        return None

    def unfinished(self, output: str) -> bool:
        """Whether the last build into `output` was interrupted (or is unknown)."""
        row = self.db.execute(
            "SELECT state FROM builds WHERE output = ?", (self.output_name(output),)
        ).fetchone()
        return row is None or row[0] == ""

    def marker(self, output: str) -> str:
        """The marker the last build wrote into `output` (see newsgen.write.Folder); "" when
        none is recorded."""
        row = self.db.execute(
            "SELECT marker FROM builds WHERE output = ?", (self.output_name(output),)
        ).fetchone()
        return "" if row is None else str(row[0])

    def start_build(self, output: str) -> None:
        self.db.execute(
            "INSERT INTO builds VALUES (?, '', NULL, '') "
            "ON CONFLICT (output) DO UPDATE SET state = '', result = NULL",
            (self.output_name(output),),
        )
        self.db.commit()

    def finish_build(self, output: str, state: str, result: object, marker: str) -> None:
        """Record the build into `output`: its input state, its result and the marker it
        wrote there."""
        self.db.execute(
            "INSERT OR REPLACE INTO builds VALUES (?, ?, ?, ?)",
            (
                self.output_name(output),
                state,
                pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL),
                marker,
            ),
        )

    def commit(self) -> None:
        self._flush()
        self.db.commit()


def _variants_memo(output_name: str, what: str = "variants") -> str:
    return f"{what}:{output_name}"


class _Languages(Mapping[str, str]):
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def __getitem__(self, sample: str) -> str:
        self.cache._flush()
        row = self.cache.db.execute(
            "SELECT lang FROM languages WHERE sample = ?", (sample,)
        ).fetchone()
        if row is None:
            raise KeyError(sample)
        return str(row[0])

    def __iter__(self) -> Iterator[str]:
        return (str(row[0]) for row in self.cache.db.execute("SELECT sample FROM languages"))

    def __len__(self) -> int:
        return int(self.cache.db.execute("SELECT count(*) FROM languages").fetchone()[0])


# An article's body HTML and its related images.
Body = tuple[str, tuple[Image, ...]]


class BodyReader:
    """Read-only access to article bodies, one connection per process. It connects when
    first used: in a worker's initializer, an error would make the pool start worker after
    worker, each failing the same way.

    Commit the cache before one reads: rows written and not committed are not seen, and a
    write larger than SQLite's page cache spills into the file under an exclusive lock (a
    rollback journal, not WAL: see Cache), which keeps every reader waiting, then failing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=BUSY_SECONDS)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    def get(self, key: str) -> str:
        """The body HTML of `key`."""
        row = self.db.execute("SELECT html FROM bodies WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise CacheDamaged(f"body {key} is missing from the build cache")
        return split_body(str(row[0]))[0]

    def get_many(self, keys: Iterable[str]) -> dict[str, Body]:
        """The bodies of `keys` that the store has (HTML and related images), by key: one
        query for many costs half as much as a query for each (the statement, not the
        lookup, was most of it)."""
        found: dict[str, Body] = {}
        for chunk in _chunks(sorted(set(keys)), 500):
            marks = ", ".join("?" * len(chunk))
            query = f"SELECT key, html FROM bodies WHERE key IN ({marks})"
            found.update((k, split_body(v)) for k, v in self.db.execute(query, chunk))
        return found


# --- when the cache fails ----------------------------------------------------------------------


class CacheDamaged(Exception):
    """The cache lacks what it recorded having: it is thrown away and the build starts again."""


class CacheFailed(Exception):
    """The cache failed during a build; `kind` is what `failure` said. The cause is the
    error."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class CacheUnusable(Exception):
    """No cache can be written, in the site's folder or in a temporary one; the message says
    why and what to do."""


# Errors that say the disk refused a write (full, read-only, gone), not that the file is bad.
_UNWRITABLE = frozenset(
    {
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    }
)
# SQLite's errors that are newsgen's mistakes, never the file's: shown, not worked around.
_MISUSE = (sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.NotSupportedError)


def failure(exc: BaseException) -> str | None:
    """What a failure while using the cache means: "unwritable" (the disk refused a write),
    "unreadable" (the file is damaged), or None when it is no failure of the cache. Works on
    errors raised in worker processes too (they come back pickled, codes included)."""
    if isinstance(exc, CacheDamaged):
        return "unreadable"
    if not isinstance(exc, sqlite3.DatabaseError) or isinstance(exc, _MISUSE):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return "unwritable" if code & 0xFF in _UNWRITABLE else "unreadable"
    return "unreadable"


def remove_files(path: Path) -> None:
    """Delete the cache at `path` with its journals."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


CACHE_NAME = "cache.sqlite"
R = TypeVar("R")


def with_cache(
    folder: Path, root: Path, run: Callable[[Cache], R], *, writable: bool
) -> tuple[R, list[str]]:
    """`run` with the cache in `folder` (the site `root`'s), and the notes to show. When the
    cache fails, `run` starts again from scratch: with a new cache in place of a damaged one;
    with one in a temporary folder, deleted afterwards, when `folder` cannot be written (a
    full or read-only disk, or not `writable` from the start). Raises CacheUnusable when no
    cache can be written anywhere."""
    place: Path | None = folder
    notes: list[str] = []
    if not writable:
        notes.append(_unwritable(folder, "the folder cannot be written"))
        place = None
    renewed = False
    while True:
        try:
            result, closing = _once(place, root, run)
            return result, notes + closing
        except CacheFailed as failed:
            if failed.kind == "unreadable" and place is not None and not renewed:
                renewed = True
                remove_files(place / CACHE_NAME)
                notes.append(UNREADABLE)
            elif place is not None:
                notes.append(_unwritable(folder, _why(failed.__cause__)))
                place = None
            else:
                raise CacheUnusable(
                    f"the build cache cannot be written, neither in {folder} nor in a "
                    f"temporary folder ({_why(failed.__cause__)}); free some space, or make "
                    "the folder writable"
                ) from failed


def _unwritable(folder: Path, why: str) -> str:
    return (
        f"build cache cannot be written in {folder} ({why}); building without it (every "
        "build starts from scratch until it can be written)"
    )


def _why(exc: BaseException | None) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _once(place: Path | None, root: Path, run: Callable[[Cache], R]) -> tuple[R, list[str]]:
    """`run` with the cache in `place`, or in a new temporary folder when `place` is None;
    and the notes of opening and saving it. Raises CacheFailed when the cache fails."""
    try:
        folder = place or Path(tempfile.mkdtemp(prefix="newsgen-cache-"))
    except OSError as exc:
        raise CacheFailed("unwritable") from exc
    try:
        try:
            cache = Cache(folder / CACHE_NAME, root=root)
        except OSError as exc:
            raise CacheFailed("unwritable") from exc
        except sqlite3.DatabaseError as exc:
            raise CacheFailed(failure(exc) or "unreadable") from exc
        try:
            result = run(cache)
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                cache.db.close()
            kind = failure(exc)
            if kind is None:
                raise
            raise CacheFailed(kind) from exc
        return result, _closed(cache)
    finally:
        if place is None:
            shutil.rmtree(folder, ignore_errors=True)


def _closed(cache: Cache) -> list[str]:
    """Save and close `cache`; the notes to show. A cache that cannot be saved is deleted
    (the build stands: its output is complete), and the next build starts from scratch."""
    notes = [cache.discarded] if cache.discarded else []
    try:
        cache.close()
    except sqlite3.Error as exc:
        if failure(exc) is None:
            raise
        with contextlib.suppress(sqlite3.Error):
            cache.db.close()
        remove_files(cache.path)
        notes.append(f"build cache could not be saved ({exc}); the next build starts from scratch")
    return notes


# --- one build at a time -----------------------------------------------------------------------

LOCK_NAME = "lock"


class Busy(Exception):
    """Another process is building the site; the message names it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    """A held lock on a site's cache. `writable` says whether the cache folder can be
    written (the lock file was), else the build keeps its cache elsewhere."""

    fd: int
    path: Path
    writable: bool


@contextlib.contextmanager
def site_lock(
    folder: Path, *, site: Path, wait: bool, waiting: Callable[[str], None] | None = None
) -> Iterator[Lock]:
    """Hold the lock on the cache in `folder` (a site's `.newsgen`) while the block runs.

    When another process holds it: raise Busy naming that process, or, with `wait`, tell
    `waiting` who it is once and wait for it. The lock is an flock: the system releases it
    when its holder ends, however it ends. Its file holds the holder's pid and command.
    Where `folder` cannot be made or written, the lock is a file in the system's temporary
    folder named after the site."""
    fd, path, writable = _open_lock(folder, site)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            if not wait:
                raise Busy(
                    f"another newsgen process ({holder}) is building {site}; run again once "
                    "it is done, or add --wait to wait for it"
                ) from None
            if waiting:
                waiting(holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        writable = writable and _sign(fd)
        yield Lock(fd=fd, path=path, writable=writable)
        if writable:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def _open_lock(folder: Path, site: Path) -> tuple[int, Path, bool]:
    """The lock file's descriptor and path, and whether it could be opened for writing."""
    path = folder / LOCK_NAME
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644), path, True
    with contextlib.suppress(OSError):
        return os.open(path, os.O_RDONLY), path, False  # an flock needs no write access
    digest = hashlib.sha256(os.fsencode(os.path.abspath(site))).hexdigest()[:16]
    try:
        path = Path(tempfile.gettempdir()) / f"newsgen-{digest}.lock"
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644), path, False
    except OSError as exc:
        raise CacheUnusable(
            f"cannot make {folder / LOCK_NAME} nor a lock file in a temporary folder "
            f"({exc.strerror or exc}); make the site folder writable"
        ) from exc


def _sign(fd: int) -> bool:
    """Write this process's pid and command into the held lock file; False when the disk
    refuses (full or read-only): then the cache folder cannot be written either."""
    command = " ".join(_command()).replace("\n", " ")[:500]
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {command}\n".encode(errors="replace"), 0)
    except OSError:
        return False
    return True


def _command() -> list[str]:
    program = os.path.basename(sys.argv[0]) if sys.argv else ""
    if program in ("newsgen", "__main__.py"):
        return ["newsgen", *sys.argv[1:]]
    return list(sys.argv)


def _holder(fd: int) -> str:
    """Who holds the lock, as its file says: "pid 123: newsgen build --site ."."""
    try:
        text = os.pread(fd, 1000, 0).decode(errors="replace").strip()
    except OSError:
        text = ""
    pid, _, command = text.partition(" ")
    if not pid.isdigit():
        return "pid unknown"
    return f"pid {pid}: {command}" if command else f"pid {pid}"


Enrichment = tuple[Article | None, list[Problem]]


class Placed(NamedTuple):
    """Where the last plan put one article (see newsgen.delta)."""

    path: str
    unit_order: str
    unit: str  # the unit key
    body: str  # the body key
    position: int
    slug: str  # as finalize made it unique; "" for a duplicate finalize skipped
    live: int  # 1 when it has a page of its own
    prev: str  # the path of the older article, or ""
    next: str  # the path of the newer one, or ""
    urls: bytes  # the listing pages that show it, marshalled


_PLACED_MARKS = ", ".join("?" * len(Placed._fields))


# Articles are stored (and come back from worker processes, pickled there) as plain tuples
# in field order, not as dataclasses or dicts: unpickling a dataclass calls fields() for every
# object, and a dict repeats every field name in every row. Unpacking 10k cached articles went
# from 0.33 s to 0.15 s.
_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))
_RELATED = _ARTICLE_FIELDS.index("related")
Packed = tuple[tuple[object, ...] | None, list[tuple[object, ...]]]


def pickled(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def pack(enrichment: Enrichment) -> Packed:
    article, problems = enrichment
    row = None
    if article is not None:
        values = [getattr(article, name) for name in _ARTICLE_FIELDS]
        # The related images are stored with the body (see stored_body), not here.
        values[_RELATED] = ()
        row = tuple(values)
    return row, [(p.path, p.message, p.line, p.level) for p in problems]


def unpack(value: Packed, order: int, path: str = "") -> Enrichment:
    """The article (numbered `order`, its position in source order) and its problems.
    `path`, the path the article is expected at: when it is, the article shares that
    string (a copy a million articles long otherwise). Raises ValueError or TypeError for a
    value that no longer fits the records."""
    row, problems = value
    article = None
    if row is not None:
        if len(row) != len(_ARTICLE_FIELDS):
            raise ValueError("the cached article has other fields")
        given: dict[str, Any] = dict(zip(_ARTICLE_FIELDS, row, strict=True))
        # Only the article's page shows its related images: it has them with its body (see
        # stored_body), and the build's main process, which holds every article, does not.
        given["related"] = ()
        # Each article is unpickled on its own, so the words that thousands of them share
        # would be as many copies: one each, interned (1.8 of 9.7 MB of article values at 10,000).
        given["lang"] = sys.intern(given["lang"])
        if given["dateline"] is not None:
            given["dateline"] = sys.intern(given["dateline"])
        given["tags"] = tuple(map(sys.intern, given["tags"]))
        given["order"] = order
        if given["path"] == path:
            given["path"] = path
        article = Article(**given)
    return article, [
        Problem(path=path, message=message, line=line, level=level)
        for path, message, line, level in cast(list[tuple[Any, ...]], problems)
    ]


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Recorded(Mapping[str, str]):
    """The key of every file the cache records in an output folder (Cache.outputs), read
    row by row as they are asked for, and all at once only when iterated: a rebuild of a
    few pages asks for a few of the 120,000 rows of a site of 100,000 articles (a third of
    a second to read them all). A row once read is kept as it was read."""

    def __init__(self, cache: Cache, output: str) -> None:
        self._cache, self._output = cache, output
        self._read: dict[str, str | None] = {}
        self._all: dict[str, str] | None = None

    def __getitem__(self, url: str) -> str:
        if self._all is not None:
            return self._all[url]
        if url not in self._read:
            row = self._cache.db.execute(
                "SELECT key FROM outputs WHERE output = ? AND url = ?",
                (self._cache.output_name(self._output), url),
            ).fetchone()
            self._read[url] = None if row is None else str(row[0])
        key = self._read[url]
        if key is None:
            raise KeyError(url)
        return key

    def __iter__(self) -> Iterator[str]:
        return iter(self._everything())

    def __bool__(self) -> bool:  # not len(): counting 120,000 rows takes a tenth of a second
        if self._all is not None:
            return bool(self._all)
        if any(key is not None for key in self._read.values()):
            return True
        row = self._cache.db.execute(
            "SELECT 1 FROM outputs WHERE output = ? LIMIT 1",
            (self._cache.output_name(self._output),),
        ).fetchone()
        return row is not None

    def __len__(self) -> int:
        if self._all is not None:
            return len(self._all)
        (count,) = self._cache.db.execute(
            "SELECT count(*) FROM outputs WHERE output = ?",
            (self._cache.output_name(self._output),),
        ).fetchone()
        return int(count)

    def _everything(self) -> dict[str, str]:
        if self._all is None:
            found = self._cache.outputs(self._output)
            found.update((url, key) for url, key in self._read.items() if key is not None)
            for url, key in self._read.items():
                if key is None:
                    found.pop(url, None)
            self._all = found
        return self._all
