"""write: the files newsgen keeps beside the site (urls.yaml, the search manifest, imported
articles) are replaced whole or not at all, as a reader or a crash sees them."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsgen import scaffold, search, urls, write
from newsgen.config import load_config
from newsgen.records import Article

ROMA = (
    "Roma – Il consiglio comunale ha approvato il bilancio dopo una lunga seduta notturna. "
    "La maggioranza ha votato compatta.\n"
    "L'opposizione ha annunciato ricorso al tribunale amministrativo.\n"
)
# Smaller than anything these writers write, larger than nothing.
FILE_SIZE_LIMIT = 8


def article(id_: str, slug: str) -> Article:
    return Article(
        id=id_,
        path=f"articles/{id_}.md",
        order=0,
        title=f"Title {id_}",
        slug=slug,
        lang="en",
        dateline=None,
        date=None,
        published=None,
        summary="",
        tags=(),
        related=(),
        image=None,
        body_key=id_,
    )


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
