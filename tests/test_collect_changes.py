"""collect's change detection: which source files a build reads again, and the state that
says whether anything changed since the last build. No build: the scan against a cache."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from newsgen import collect, write
from newsgen.cache import CODE, Cache
from newsgen.collect import (
    RACY_NS,
    UNREAD,
    Scan,
    Source,
    Unit,
    curated_unit_keys,
    file_row,
    known_state,
    list_sources,
    remember_state,
    scan,
)
from newsgen.config import Config
from newsgen.write import Clock
from tests.util import next_tick

OLD_NS = 1_000_000_000 * 10**9  # 2001: long before any scan, so never "racily clean"
SEED_A = b"Roma \xe2\x80\x93 Il consiglio ha approvato il bilancio.\n"
SEED_B = b"Parigi \xe2\x80\x93 Il sindaco ha firmato.\n"
CURATED = b"---\ntitle: Curato\n---\n\nIl testo.\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(path: Path, data: bytes, mtime_ns: int = OLD_NS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    put(root / "seeds" / "b.txt", SEED_B)
    put(root / "seeds" / "a.txt", SEED_A)
    put(root / "articles" / "c.md", CURATED)
    return root


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    opened = Cache(tmp_path / "site" / ".newsgen" / "cache.sqlite")
    yield opened
    opened.close()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the scan reads, by name."""
    done: list[str] = []
    real = collect.Limit.hash

    def hash_(limit: collect.Limit, file: str) -> str | collect.Unreadable:
        done.append(os.path.basename(file))
        return real(limit, file)

    monkeypatch.setattr(collect.Limit, "hash", hash_)
    return done


def remember_seeds(cache: Cache, found: Scan) -> None:
    """What a build records once its workers have read the seeds."""
    rows = [
        file_row(
            Source(
                path=s.path,
                file=s.file,
                sha=sha(Path(s.file).read_bytes()),
                size=s.size,
                mtime_ns=s.mtime_ns,
            ),
            found.read_since_ns,
        )
        for s in found.seeds
    ]
    cache.update_file_hashes(rows, ())


def summary(found: Scan) -> list[tuple[str, str, int, int]]:
    return [(s.path, s.sha, s.size, s.mtime_ns) for s in (*found.seeds, *found.curated)]


def test_a_first_scan_reads_curated_files_and_leaves_new_seeds_to_their_workers(
    site: Path, cache: Cache, reads: list[str]
) -> None:
    found = scan(Config(root=site), cache)
    assert summary(found) == [
        ("seeds/a.txt", "", len(SEED_A), OLD_NS),
        ("seeds/b.txt", "", len(SEED_B), OLD_NS),
        ("articles/c.md", sha(CURATED), len(CURATED), OLD_NS),
    ]
    assert reads == ["c.md"]
    assert found.problems == ()
    assert (found.complete(), found.state()) == (False, "")
    assert cache.file_hashes() == {
        "articles/c.md": ("articles/c.md", len(CURATED), OLD_NS, sha(CURATED))
    }


def test_an_unchanged_site_is_read_no_more_and_keeps_its_state(
    site: Path, cache: Cache, reads: list[str]
) -> None:
    remember_seeds(cache, scan(Config(root=site), cache))
    reads.clear()
    found = scan(Config(root=site), cache)
    assert reads == []
    assert [s.sha for s in (*found.seeds, *found.curated)] == [
        sha(SEED_A),
        sha(SEED_B),
        sha(CURATED),
    ]
    assert found.complete()
    digest = hashlib.sha256(
        f"seeds/a.txt\0{sha(SEED_A)}\0seeds/b.txt\0{sha(SEED_B)}\0"
        f"articles/c.md\0{sha(CURATED)}\0".encode()
    ).hexdigest()
    assert found.state() == digest
    assert scan(Config(root=site), cache).state() == digest


@pytest.mark.parametrize(
    ("data", "mtime_ns"),
    [
        (SEED_A + b"Altro.\n", OLD_NS),  # longer, same mtime
        (SEED_A.replace(b"Roma", b"Rome"), OLD_NS + 1),  # same size, a new mtime
    ],
    ids=["size", "mtime"],
)
def test_a_file_whose_size_or_mtime_changed_is_read_again(
    site: Path, cache: Cache, reads: list[str], data: bytes, mtime_ns: int
) -> None:
    remember_seeds(cache, scan(Config(root=site), cache))
    before = scan(Config(root=site), cache).state()
    put(site / "seeds" / "a.txt", data, mtime_ns)
    reads.clear()
    found = scan(Config(root=site), cache)
    assert reads == ["a.txt"]
    assert found.seeds[0].sha == sha(data)
    assert found.state() not in ("", before)
    assert cache.file_hashes()["seeds/a.txt"] == ("seeds/a.txt", len(data), mtime_ns, sha(data))


def test_a_same_size_edit_that_keeps_the_mtime_is_trusted_unread(
    site: Path, cache: Cache, reads: list[str]
) -> None:
    """The price of reading only what changed: why a recent file is recorded as racy."""
    remember_seeds(cache, scan(Config(root=site), cache))
    put(site / "seeds" / "a.txt", SEED_A.replace(b"Roma", b"Rome"))
    reads.clear()
    assert scan(Config(root=site), cache).seeds[0].sha == sha(SEED_A)
    assert reads == []


def test_a_removed_file_is_forgotten_and_changes_the_state(site: Path, cache: Cache) -> None:
    remember_seeds(cache, scan(Config(root=site), cache))
    before = scan(Config(root=site), cache).state()
    (site / "seeds" / "b.txt").unlink()
    found = scan(Config(root=site), cache)
    assert [s.path for s in found.seeds] == ["seeds/a.txt"]
    assert sorted(cache.file_hashes()) == ["articles/c.md", "seeds/a.txt"]
    assert found.state() not in ("", before)


def test_a_renamed_file_with_the_same_text_changes_the_state(site: Path, cache: Cache) -> None:
    remember_seeds(cache, scan(Config(root=site), cache))
    before = scan(Config(root=site), cache).state()
    (site / "articles" / "c.md").rename(site / "articles" / "d.md")
    assert scan(Config(root=site), cache).state() not in ("", before)


def test_other_names_are_not_sources(site: Path, cache: Cache) -> None:
    put(site / "seeds" / ".hidden.txt", SEED_A)
    put(site / "seeds" / "notes.md", SEED_A)
    put(site / "articles" / "seed.txt", SEED_A)
    put(site / "articles" / ".draft.md", CURATED)
    found = scan(Config(root=site), cache)
    assert [s.path for s in (*found.seeds, *found.curated)] == [
        "seeds/a.txt",
        "seeds/b.txt",
        "articles/c.md",
    ]


def test_a_site_without_source_folders_has_no_sources(tmp_path: Path, cache: Cache) -> None:
    found = scan(Config(root=tmp_path / "site"), cache)
    assert (found.seeds, found.curated, found.problems) == ((), (), ())


def test_a_file_over_the_limit_is_skipped_unread(
    site: Path, cache: Cache, reads: list[str]
) -> None:
    put(site / "articles" / "big.md", b"x" * 2000)
    found = scan(Config(root=site, max_file_mb=0.001), cache)
    assert [s.path for s in found.curated] == ["articles/c.md"]
    assert [str(p) for p in found.problems] == [
        "articles/big.md: 0.00191 MB, over max_file_mb (0.001); skipped; split the file, or "
        "raise max_file_mb in newsgen.yaml"
    ]
    assert reads == ["c.md"]


def test_links_and_special_files_are_skipped_with_their_reason(
    site: Path, cache: Cache, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.md"
    put(outside, CURATED)
    articles = site / "articles"
    (articles / "out.md").symlink_to(outside)
    (articles / "nothing.md").symlink_to(articles / "missing")
    (articles / "loop.md").symlink_to(articles / "loop.md")
    (articles / "inside.md").symlink_to(articles / "c.md")
    (articles / "folder.md").mkdir()
    os.mkfifo(articles / "pipe.md")
    found = scan(Config(root=site), cache)
    assert [s.path for s in found.curated] == ["articles/c.md", "articles/inside.md"]
    assert sorted(str(p) for p in found.problems) == [
        "articles/folder.md: not a regular file (a folder); skipped; only regular files are read",
        "articles/loop.md: symlink loop; skipped; point the link at a file, or delete it",
        "articles/nothing.md: symlink to nothing; skipped; point the link at a file, or delete it",
        "articles/out.md: is a link to a file outside the site; skipped; copy the file in instead",
        "articles/pipe.md: not a regular file (a named pipe); skipped; only regular files are read",
    ]
    assert {p.level for p in found.problems} == {"error"}


@pytest.mark.parametrize(
    ("offset", "racy"),
    [(0, True), (-RACY_NS, True), (-RACY_NS - 1, False)],
)
def test_a_file_changed_within_the_racy_window_is_recorded_to_be_read_again(
    offset: int, racy: bool
) -> None:
    since = 5 * RACY_NS
    source = Source(path="seeds/a.txt", file="/x/a.txt", sha="abc", size=7, mtime_ns=since + offset)
    assert file_row(source, since) == ("seeds/a.txt", -1 if racy else 7, since + offset, "abc")


def test_a_racily_recorded_file_is_read_again(site: Path, cache: Cache, reads: list[str]) -> None:
    put(site / "articles" / "c.md", CURATED, mtime_ns=os.stat(site).st_mtime_ns + 10**9)
    scan(Config(root=site), cache)
    assert cache.file_hashes()["articles/c.md"][1] == -1
    reads.clear()
    scan(Config(root=site), cache)
    assert reads == ["c.md"]


def test_curated_unit_keys_name_the_code_the_path_and_the_hash() -> None:
    sources = [Source(path="articles/c.md", file="/s/articles/c.md", sha="abc")]
    assert curated_unit_keys(sources) == {"articles/c.md": f"md:{CODE}:articles/c.md:abc"}


def test_seeds_read_by_their_workers_are_remembered(
    site: Path, cache: Cache, reads: list[str]
) -> None:
    """A seed `scan` left unread gets the hash its worker read; one its worker could not read
    is recorded with no size, so that the next scan reads it again."""
    found = scan(Config(root=site), cache)
    a, b = found.seeds
    units = [
        Unit(
            key="ka",
            order="0",
            seed=Source(path=a.path, file=a.file, sha="sha-a", size=a.size, mtime_ns=a.mtime_ns),
            curated=None,
        ),
        Unit(
            key="kb",
            order="1",
            seed=Source(path=b.path, file=b.file, sha=UNREAD, size=-1, mtime_ns=b.mtime_ns),
            curated=None,
        ),
    ]
    hashed = collect._record_hashes(cache, found, units)
    assert [s.sha for s in hashed.seeds] == ["sha-a", UNREAD]
    assert hashed.curated == found.curated
    known = cache.file_hashes()
    assert (known["seeds/a.txt"], known["seeds/b.txt"]) == (
        ("seeds/a.txt", len(SEED_A), OLD_NS, "sha-a"),
        ("seeds/b.txt", -1, OLD_NS, UNREAD),
    )
    reads.clear()
    again = scan(Config(root=site), cache)
    assert reads == ["b.txt"]
    assert [s.sha for s in again.seeds] == ["sha-a", sha(SEED_B)]
    read_now = replace(units[1], seed=again.seeds[1])
    assert collect._record_hashes(cache, again, [units[0], read_now]) is again


def test_a_file_name_that_is_not_utf8_is_skipped_naming_it_readably(
    site: Path, cache: Cache
) -> None:
    os.close(os.open(os.fsencode(site / "seeds") + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY))
    found = scan(Config(root=site), cache)
    assert [s.path for s in found.seeds] == ["seeds/a.txt", "seeds/b.txt"]
    assert [(str(p), p.level) for p in found.problems] == [
        ("seeds/caf\\xe9.txt: file name is not UTF-8; skipped; rename the file", "error")
    ]


def test_a_file_of_exactly_the_limit_is_read(site: Path, cache: Cache) -> None:
    config = Config(root=site, max_file_mb=0.001)
    put(site / "articles" / "c.md", CURATED.ljust(config.max_file_bytes, b"x"))
    found = scan(config, cache)
    assert ([s.path for s in found.curated], found.problems) == (["articles/c.md"], ())


def test_a_file_this_process_may_not_read_is_skipped(
    site: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(Root may read anything: the permission check is made to say no.)"""
    asked: list[str] = []

    def access(path: str, mode: int, **kwargs: object) -> bool:
        asked.append(os.path.basename(path))
        return False

    (site / "articles" / "c.md").chmod(0o000)
    monkeypatch.setattr(os, "access", access)
    found = scan(Config(root=site), cache)
    assert (found.curated, asked) == ((), ["c.md"])
    assert [str(p) for p in found.problems] == [
        "articles/c.md: not readable (permission denied); skipped; check its permissions"
    ]


def test_a_file_name_in_utf8_beyond_ascii_is_a_source(site: Path, cache: Cache) -> None:
    put(site / "seeds" / "caffè.txt", SEED_A)
    found = scan(Config(root=site), cache)
    assert ([s.path for s in found.seeds], found.problems) == (
        ["seeds/a.txt", "seeds/b.txt", "seeds/caffè.txt"],
        (),
    )


# --- the listing's mark: an unchanged site's state without a scan --------------------------


def scanned_whole(site: Path, cache: Cache, config: Config | None = None) -> Scan:
    """A scan whose every seed was read, remembered as a build remembers it."""
    config = config or Config(root=site)
    remember_seeds(cache, scan(config, cache))
    found = scan(config, cache)
    remember_state(cache, found, found.state())
    return found


def test_a_listing_as_scanned_before_gives_the_state_that_scan_found(
    site: Path, cache: Cache, reads: list[str]
) -> None:
    found = scanned_whole(site, cache)
    reads.clear()
    listing = list_sources(Config(root=site))
    assert listing.mark == found.mark != ""
    assert known_state(cache, listing) == found.state() != ""
    assert reads == []


def _same_size_other_bytes(site: Path) -> None:
    put(site / "seeds" / "a.txt", SEED_A.replace(b"Roma", b"Rome"), OLD_NS + 1)


def _touched(site: Path) -> None:
    os.utime(site / "articles" / "c.md", ns=(OLD_NS, OLD_NS + 1))


def _renamed(site: Path) -> None:
    (site / "seeds" / "b.txt").rename(site / "seeds" / "bb.txt")


def _added(site: Path) -> None:
    put(site / "articles" / "d.md", CURATED)


def _deleted(site: Path) -> None:
    (site / "seeds" / "b.txt").unlink()


def _not_readable(site: Path) -> None:
    (site / "seeds" / "a.txt").chmod(0o200)


def _replaced_alike(site: Path) -> None:
    """Another file with the same name, size and mtime: only its inode tells."""
    put(site / "seeds" / "new", SEED_A.replace(b"Roma", b"Rome"))
    (site / "seeds" / "new").replace(site / "seeds" / "a.txt")


def _linked(site: Path) -> None:
    """A link to a file just like the one it replaces, outside the site."""
    put(site.parent / "outside.txt", SEED_A)
    (site / "seeds" / "a.txt").unlink()
    (site / "seeds" / "a.txt").symlink_to(site.parent / "outside.txt")


@pytest.mark.parametrize(
    "change",
    [
        _same_size_other_bytes,
        _touched,
        _renamed,
        _added,
        _deleted,
        _not_readable,
        _replaced_alike,
        _linked,
    ],
)
def test_any_change_a_scan_would_see_changes_the_mark(
    site: Path, cache: Cache, change: Callable[[Path], None]
) -> None:
    found = scanned_whole(site, cache)
    change(site)
    listing = list_sources(Config(root=site))
    assert listing.mark not in ("", found.mark)
    assert known_state(cache, listing) == ""


def test_a_file_changed_too_recently_to_trust_its_mtime_leaves_no_mark(
    site: Path, cache: Cache
) -> None:
    put(site / "seeds" / "a.txt", SEED_A, time.time_ns() - RACY_NS // 2)
    assert list_sources(Config(root=site)).mark == ""
    found = scanned_whole(site, cache)
    assert found.mark == ""
    put(site / "seeds" / "a.txt", SEED_A)  # old again: a mark, but no state for it
    assert known_state(cache, list_sources(Config(root=site))) == ""


def test_a_scan_that_skipped_a_file_remembers_no_state(site: Path, cache: Cache) -> None:
    put(site / "seeds" / "big.txt", b"x" * 2000)
    config = Config(root=site, max_file_mb=0.001)
    found = scanned_whole(site, cache, config)
    assert [p.path for p in found.problems] == ["seeds/big.txt"]
    assert found.mark != "" and found.complete()
    assert known_state(cache, list_sources(config)) == ""


# --- the listing's blocks: a rescan looks one by one only at the blocks that changed -------

MANY = [f"{i:02d}.txt" for i in range(24)]


@pytest.fixture
def many(site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The site with 24 more seeds, cut into blocks of about two files."""
    monkeypatch.setattr(collect, "CUT_BITS", 1)
    for i, name in enumerate(MANY):
        put(site / "seeds" / name, SEED_B + b"%d\n" % i)
    return site


def asked(cache: Cache, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths whose rows the scans from now on ask for; asking for every row fails."""
    paths: list[str] = []
    real = cache.file_rows

    def file_rows(wanted: Iterable[str]) -> dict[str, tuple[str, int, int, str]]:
        wanted = list(wanted)
        paths.extend(wanted)
        return real(wanted)

    def file_hashes() -> dict[str, tuple[str, int, int, str]]:
        raise AssertionError("every row was read")

    monkeypatch.setattr(cache, "file_rows", file_rows)
    monkeypatch.setattr(cache, "file_hashes", file_hashes)
    return paths


def clean_scan(site: Path, tmp_path: Path) -> list[tuple[str, str, int, int]]:
    """What a scan with no cache finds, every seed read."""
    fresh = Cache(tmp_path / "fresh.sqlite")
    try:
        return summary(scanned_whole(site, fresh))
    finally:
        fresh.close()


def test_a_rescan_after_one_edit_looks_only_at_the_block_of_the_file_edited(
    many: Path, cache: Cache, reads: list[str], tmp_path: Path
) -> None:
    first = scanned_whole(many, cache)
    cache.remember_sources({}, whole=True)  # no file touched since
    assert len(list_sources(Config(root=many)).seeds.blocks) > 6  # type: ignore[union-attr]
    put(many / "seeds" / "07.txt", SEED_B + b"7!\n", OLD_NS + 1)
    reads.clear()
    with pytest.MonkeyPatch.context() as patch:
        rows = asked(cache, patch)
        found = scan(Config(root=many), cache)
    assert reads == ["07.txt"]
    assert "seeds/07.txt" in rows and len(rows) < len(first.seeds) // 3
    assert summary(found) == clean_scan(many, tmp_path)
    assert cache.touched() == ["seeds/07.txt"]


def _not_utf8(site: Path) -> None:
    os.close(os.open(os.fsencode(site / "seeds") + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY))


@pytest.mark.parametrize(
    "change",
    [_added, _deleted, _renamed, _not_readable, _replaced_alike, _linked, _touched, _not_utf8],
)
def test_a_rescan_by_blocks_finds_what_a_rescan_of_every_row_finds(
    many: Path, cache: Cache, tmp_path: Path, change: Callable[[Path], None]
) -> None:
    scanned_whole(many, cache)
    cache.remember_sources({}, whole=True)  # no file touched since
    cache.commit()
    shutil.copy(cache.path, tmp_path / "rows.sqlite")
    rows = Cache(tmp_path / "rows.sqlite")
    rows.replace_blocks(rows.block_marks(), [])  # no blocks: a scan reads every row
    change(many)
    found, expected = scan(Config(root=many), cache), scan(Config(root=many), rows)
    assert summary(found) == summary(expected)
    assert found.problems == expected.problems
    assert cache.touched() == rows.touched()
    assert cache.file_hashes() == rows.file_hashes()
    rows.close()


def test_a_file_put_back_as_it_was_before_an_edit_is_read_as_it_is_now(
    many: Path, cache: Cache
) -> None:
    """An edit, a scan (that records the blocks of the edited listing), the sources
    remembered with the edit, then the file put back with its old bytes and mtime, inode
    and all: the block as it was first listed must not give the edited file's hash."""
    scanned_whole(many, cache)
    seed = many / "seeds" / "07.txt"
    old = seed.read_bytes()
    put(seed, old.replace(b"7", b"8"), OLD_NS + 5)
    edited = scan(Config(root=many), cache)
    cache.remember_sources({s.path: s.sha for s in edited.seeds}, whole=True)
    put(seed, old)
    found = scan(Config(root=many), cache)
    assert {s.path: s.sha for s in found.seeds}["seeds/07.txt"] == sha(old)
    assert cache.touched() == ["seeds/07.txt"]


def test_a_cold_scan_records_its_blocks_once_their_seeds_are_read(
    many: Path, cache: Cache, reads: list[str]
) -> None:
    found = scan(Config(root=many), cache)
    assert found.pending and not found.complete()
    remember_seeds(cache, found)  # what the workers read, and the build records
    seeds = tuple(s._replace(sha=sha(Path(s.file).read_bytes())) for s in found.seeds)
    remember_state(cache, replace(found, seeds=seeds), "")
    reads.clear()
    with pytest.MonkeyPatch.context() as patch:
        rows = asked(cache, patch)
        again = scan(Config(root=many), cache)
    assert (reads, rows) == ([], [])
    assert summary(again) == summary(replace(found, seeds=seeds))


def test_a_block_with_a_file_changed_too_recently_is_looked_at_again(
    many: Path, cache: Cache, reads: list[str]
) -> None:
    put(many / "seeds" / "07.txt", SEED_A, time.time_ns() - RACY_NS // 2)
    scanned_whole(many, cache)
    reads.clear()
    with pytest.MonkeyPatch.context() as patch:
        rows = asked(cache, patch)
        scan(Config(root=many), cache)
    assert "seeds/07.txt" in rows and len(rows) < len(MANY) // 3
    assert reads == ["07.txt"]  # its row has no size: racily clean


# --- the names of a folder that has not changed are not listed again ----------------------


@pytest.fixture
def settles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Folders settle as soon as they change (each test waits for the clock's next tick
    before it changes one); returns the folders listed, in order."""
    monkeypatch.setattr(collect, "fs_clock", lambda folder: Clock(os.stat(folder).st_dev, 1 << 62))
    listed: list[str] = []
    real = os.scandir

    def scandir(path: str) -> Iterator[os.DirEntry[str]]:
        listed.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr("newsgen.collect.os.scandir", scandir)
    return listed


def names(listing: collect.Listing) -> list[tuple[str, list[str], bytes]]:
    folders = [f for f in (listing.seeds, listing.curated) if f is not None]
    return [(f.prefix, f.names, f.links) for f in folders]


def test_a_folder_unchanged_since_it_was_listed_is_not_listed_again(
    site: Path, cache: Cache, settles: list[str]
) -> None:
    first = list_sources(Config(root=site), cache=cache)
    assert settles == ["seeds", "articles"]
    settles.clear()
    again = list_sources(Config(root=site), cache=cache)
    assert settles == []
    assert names(again) == names(first)
    assert again.mark == first.mark


@pytest.mark.parametrize("change", [_added, _deleted, _renamed, _linked, _not_utf8])
def test_a_name_added_removed_renamed_or_made_a_link_is_listed(
    site: Path, cache: Cache, settles: list[str], tmp_path: Path, change: Callable[[Path], None]
) -> None:
    list_sources(Config(root=site), cache=cache)
    for folder in ("seeds", "articles"):
        next_tick(tmp_path, site / folder)
    change(site)
    settles.clear()
    listing = list_sources(Config(root=site), cache=cache)
    assert names(listing) == names(list_sources(Config(root=site)))
    assert settles != []


def test_a_folder_changed_within_its_file_systems_last_tick_is_not_recorded(
    site: Path, cache: Cache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = "SELECT name FROM memos WHERE name LIKE 'names:%' ORDER BY name"
    folders = [site / "seeds", site / "articles"]
    changed = min(max(f.stat().st_mtime_ns, f.stat().st_ctime_ns) for f in folders)
    with monkeypatch.context() as patched:
        # The file system's clock has not ticked since.
        patched.setattr(collect, "fs_clock", lambda folder: Clock(os.stat(folder).st_dev, changed))
        list_sources(Config(root=site), cache=cache)
    assert cache.db.execute(recorded).fetchall() == []
    for folder in folders:
        next_tick(tmp_path, folder)
    list_sources(Config(root=site), cache=cache)
    assert cache.db.execute(recorded).fetchall() == [("names:articles/.md",), ("names:seeds/.txt",)]


def test_a_source_folder_settles_by_the_clock_read_in_the_cache_folder(
    site: Path, cache: Cache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeds = site / "seeds"
    next_tick(tmp_path, seeds)
    list_sources(Config(root=site), cache=cache)
    recorded = "SELECT name FROM memos WHERE name = 'names:seeds/.txt'"
    assert cache.db.execute(recorded).fetchall() != []  # ticked: settled, not 2 s later
    assert not [n for n in os.listdir(cache.path.parent) if n.endswith(".tmp")]  # no probe left
    changed = max(seeds.stat().st_mtime_ns, seeds.stat().st_ctime_ns)
    monkeypatch.setattr(time, "time_ns", lambda: changed + 1)
    assert write.settled_stamp(seeds, Clock()) == ""  # no probe: by the machine's clock


def test_an_empty_source_folder_has_no_blocks_and_no_sources(site: Path, cache: Cache) -> None:
    for seed in (site / "seeds").iterdir():
        seed.unlink()
    found = scan(Config(root=site), cache)
    assert (found.seeds, [s.path for s in found.curated]) == ((), ["articles/c.md"])
    assert list_sources(Config(root=site)).seeds.blocks == ()  # type: ignore[union-attr]


def test_a_seed_its_worker_could_not_read_is_read_again_and_touched(
    many: Path, cache: Cache, reads: list[str]
) -> None:
    """The scan took its hash from a kept block; the worker then found it unreadable (moved
    away and back, say): the next scan must read it again, and mark it touched, however
    its status looks."""
    scanned_whole(many, cache)
    cache.remember_sources({}, whole=True)
    found = scan(Config(root=many), cache)
    units = [
        Unit(
            key="",
            order=s.path,
            seed=s._replace(sha=UNREAD, size=-1) if s.path == "seeds/a.txt" else s,
            curated=None,
        )
        for s in found.seeds
    ]
    collect._record_hashes(cache, found, units)
    cache.remember_sources({"seeds/a.txt": UNREAD}, whole=False)  # what the build stores
    reads.clear()
    again = scan(Config(root=many), cache)
    assert reads == ["a.txt"]
    assert {s.path: s.sha for s in again.seeds}["seeds/a.txt"] == sha(SEED_A)
    assert cache.touched() == ["seeds/a.txt"]


def test_a_block_whose_files_need_the_slow_check_and_pass_it_is_kept(
    many: Path, cache: Cache, reads: list[str]
) -> None:
    """A name beyond ASCII, or a file only its group may read, is checked by `_check_entry`
    (not inline): once it passes, its block is kept like any other."""
    put(many / "seeds" / "caffè.txt", SEED_A)
    (many / "seeds" / "05.txt").chmod(0o640)
    if os.geteuid() == 0:  # another owner: only root may give the file away
        os.chown(many / "seeds" / "05.txt", 1, os.getegid())
    scanned_whole(many, cache)
    reads.clear()
    with pytest.MonkeyPatch.context() as patch:
        rows = asked(cache, patch)
        found = scan(Config(root=many), cache)
    assert (reads, rows, found.problems) == ([], [], ())
    assert "seeds/caffè.txt" in {s.path for s in found.seeds}


def test_once_read_the_scan_keeps_each_sources_path_and_hash_and_articles_share_the_paths(
    site: Path, cache: Cache
) -> None:
    """What the plan holds of the scan: at a million seeds, the files' full names and
    statuses were hundreds of megabytes, and each article's path a second copy."""
    collected = collect.collect(Config(root=site), cache, scan(Config(root=site), cache), jobs=1)
    sources = (*collected.found.seeds, *collected.found.curated)
    assert sources == (
        Source("seeds/a.txt", "", sha(SEED_A)),
        Source("seeds/b.txt", "", sha(SEED_B)),
        Source("articles/c.md", "", sha(CURATED)),
    )
    by_path = {s.path: s.path for s in sources}
    assert sorted(a.path for a in collected.articles) == sorted(by_path)
    assert all(a.path is by_path[a.path] for a in collected.articles)
