"""`compress: true`: a .gz and a .br copy beside every HTML, CSS, JavaScript, XML and JSON file
the build writes, byte-identical from build to build, written when their file is and removed
with it; a rebuild equals a clean build and two builds are byte-identical with it on."""

from __future__ import annotations

import gzip
import random
import shutil
from pathlib import Path

import brotli  # type: ignore[import-untyped]
import pytest

from newsgen import write
from tests.conftest import SAMPLE, build_site
from tests.test_determinism import cli_build, make_site
from tests.test_incremental import (
    Change,
    add_article,
    add_static_file,
    delete_article,
    edit_body,
    override_template,
)
from tests.util import clean_build, differing, snapshot

COMPRESSED = (".html", ".css", ".js", ".xml", ".xsl", ".svg", ".json")


def compress(site: Path) -> None:
    config = site / "newsgen.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "compress: true\n", encoding="utf-8")


def sample(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    compress(site)
    return site


def written_by_newsgen(files: dict[str, bytes]) -> list[str]:
    """The files a build wrote but Pagefind's (left as Pagefind writes them)."""
    return [n for n in files if not n.startswith(("pagefind/", write.MARKER))]


def test_every_text_file_has_its_copies_and_nothing_else_has(tmp_path: Path) -> None:
    config, _ = build_site(sample(tmp_path))
    files = snapshot(config.output_dir)
    originals = [n for n in written_by_newsgen(files) if not n.endswith((".gz", ".br"))]
    expected = set()
    for name in originals:
        if name.endswith(COMPRESSED):
            expected |= {name + ".gz", name + ".br"}
            assert gzip.decompress(files[name + ".gz"]) == files[name], name
            assert brotli.decompress(files[name + ".br"]) == files[name], name
    assert {n for n in files if n.endswith((".gz", ".br")) and n in written_by_newsgen(files)} == (
        expected
    )
    assert "index.html.gz" in expected and "feed.xml.br" in expected
    assert not any(n.startswith(("_headers.", "_redirects.", "robots.txt.")) for n in files)
    # No time or name in the gzip header: the same page always gives the same bytes.
    header = files["index.html.gz"][:10]
    assert header[4:8] == b"\0\0\0\0" and header[3] & 0x08 == 0


CHANGES = [edit_body, add_article, delete_article, override_template, add_static_file]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
def test_a_rebuild_equals_a_clean_build_with_compression(change: Change, tmp_path: Path) -> None:
    site = sample(tmp_path)
    config, _ = build_site(site)
    change(site)
    build_site(site)
    assert differing(snapshot(config.output_dir), clean_build(site, tmp_path)) == []


def test_copies_are_rewritten_with_their_page_and_removed_with_it(tmp_path: Path) -> None:
    site = sample(tmp_path)
    config, _ = build_site(site)
    output = config.output_dir
    before = snapshot(output)
    delete_article(site)
    _, result = build_site(site)
    after = snapshot(output)
    gone = written_by_newsgen({n: b for n, b in before.items() if n not in after})
    assert any(n.startswith("articles/") and n.endswith("index.html") for n in gone)
    for name in gone:
        if name.endswith(COMPRESSED):
            assert name + ".gz" in gone and name + ".br" in gone, name
    changed = [n for n in written_by_newsgen(after) if n in before and before[n] != after[n]]
    for name in changed:
        if name.endswith(".gz"):
            assert gzip.decompress(after[name]) == after[name.removesuffix(".gz")]
    # A copy is written only with its file: none of an unchanged page is.
    assert all(n.removesuffix(".gz").removesuffix(".br") in changed for n in changed)
    assert result.removed == len(gone)


def test_a_deleted_copy_is_written_again(tmp_path: Path) -> None:
    config, _ = build_site(sample(tmp_path))
    copy = config.output_dir / "index.html.gz"
    data = copy.read_bytes()
    copy.unlink()
    _, result = build_site(config.root)
    assert copy.read_bytes() == data
    assert result.written == 1


def test_turning_compression_off_removes_the_copies(tmp_path: Path) -> None:
    site = sample(tmp_path)
    config, _ = build_site(site)
    (site / "newsgen.yaml").write_text(
        (site / "newsgen.yaml").read_text().replace("compress: true\n", ""), encoding="utf-8"
    )
    build_site(site)
    files = snapshot(config.output_dir)
    assert [n for n in files if n.endswith((".gz", ".br")) and not n.startswith("pagefind/")] == []
    assert differing(files, clean_build(site, tmp_path)) == []


def test_two_builds_with_compression_are_byte_identical(tmp_path: Path) -> None:
    """In other orders, hash seeds and worker counts (the CLI, in processes of its own)."""
    first = make_site(tmp_path / "a", random.Random(4))
    second = make_site(tmp_path / "b", None)
    for site in (first, second):
        compress(site)
    one = cli_build(first, hash_seed="7", jobs=1)
    two = cli_build(second, hash_seed="99", jobs=2)
    assert "index.html.br" in one
    assert differing(one, two) == []
