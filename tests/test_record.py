"""The record of an output folder (the key of each file newsgen has in it) and its marker: a
rebuild of a few pages reads and changes the record of its own files only."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from newsgen import publish
from newsgen.cache import Cache, Recorded
from tests.conftest import MakeSite, build_site
from tests.test_layout import SITE
from tests.util import settle_outputs


def test_a_marker_updated_from_the_changed_files_is_the_marker_of_the_whole() -> None:
    rng = random.Random(7)
    before = {f"/articles/{n}/": f"{rng.getrandbits(64):x}" for n in range(200)}
    marker = publish.marker_of(before, "variants")
    changed = dict(rng.sample(sorted(before.items()), 20))
    after = {url: f"{rng.getrandbits(64):x}" for url in changed}
    after["/articles/new/"] = "fresh"
    expected = publish.marker_of({**before, **after}, "variants")
    assert publish.marker_after(marker, changed, after) == expected != marker


def test_the_marker_does_not_depend_on_the_order_of_the_files() -> None:
    keys = {f"/{n}/": str(n) for n in range(50)}
    backwards = dict(reversed(list(keys.items())))
    assert publish.marker_of(keys) == publish.marker_of(backwards) != publish.marker_of({})


def test_a_record_is_read_by_url_and_whole_when_iterated(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache.sqlite")
    output = str(tmp_path / "build")
    try:
        cache.set_outputs(output, {"/a/": "1", "/b/": "2", "/c/": "3"})
        record = cache.recorded(output)
        assert (record["/a/"], record.get("/zz/"), "/b/" in record, len(record)) == (
            "1",
            None,
            True,
            3,
        )
        cache.set_outputs(output, {"/a/": "changed", "/d/": "4"})
        # A row once read stays as it was read; the others are read as they are now.
        assert dict(record) == {"/a/": "1", "/b/": "2", "/d/": "4"}
        with pytest.raises(KeyError):
            record["/c/"]
    finally:
        cache.close()


def test_an_edit_rebuild_reads_no_record_but_its_own_files(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    settle_outputs(monkeypatch)
    site = make_site(SITE)
    build_site(site)
    whole: list[str] = []
    outputs = Cache.outputs

    def counted(cache: Cache, output: str) -> dict[str, str]:
        whole.append(output)
        return outputs(cache, output)

    monkeypatch.setattr(Cache, "outputs", counted)

    # Nor counts it: counting 120,000 rows takes as long as reading a few thousand.
    def count(record: Recorded) -> int:
        whole.append("len")
        return 0

    monkeypatch.setattr(Recorded, "__len__", count)
    (site / "seeds" / "a.txt").write_text("Roma – Un testo.\nUn paragrafo cambiato.\n", "utf-8")
    _, result = build_site(site)
    assert result.kept_plan
    assert whole == []


def test_a_record_is_true_when_it_holds_a_file(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache.sqlite")
    try:
        output = str(tmp_path / "build")
        assert not cache.recorded(output)
        cache.set_outputs(output, {"/a/": "1"})
        assert cache.recorded(output) and not cache.recorded(str(tmp_path / "other"))
        record = cache.recorded(output)
        assert record.get("/a/") == "1" and record
        cache.set_outputs(output, {})
        assert not cache.recorded(output) and record  # a row once read stays as it was read
    finally:
        cache.close()
