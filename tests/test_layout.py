"""publish's check of the output folder before a rebuild: the folders that hold pages' folders
are listed only when their stamp changed, and whatever is missing is still put back."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Collection
from functools import partial
from pathlib import Path

import pytest

from newsgen import publish, write
from newsgen.cache import Cache
from newsgen.plan import url_to_path
from tests.conftest import MakeSite, build_site
from tests.util import next_tick, settle_outputs, site_cache, snapshot

SITE = {
    "seeds/a.txt": "Roma – Un testo.\nUn secondo paragrafo.\n",
    "seeds/b.txt": "Parigi – Altro.\n",
    "seeds/c.txt": "Londra – Un terzo.\n",
}


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders a check lists, in order; every folder settles before its stamp is taken."""
    settle_outputs(monkeypatch)
    folders: list[Path] = []
    real = publish._folders

    def counted(path: Path) -> set[str]:
        folders.append(path)
        return real(path)

    monkeypatch.setattr(publish, "_folders", counted)
    return folders


def layout(site: Path) -> publish.Layout | None:
    with site_cache(site) as cache:
        return publish.recorded_layout(cache, site / "build")


def test_a_no_change_rebuild_lists_no_folder(make_site: MakeSite, listed: list[Path]) -> None:
    site = make_site(SITE)
    build_site(site)
    listed.clear()
    _, result = build_site(site)
    assert (result.written, listed) == (0, [])


def test_a_deleted_page_folder_is_found_by_listing_its_parent_alone(
    make_site: MakeSite, listed: list[Path]
) -> None:
    site = make_site(SITE)
    config, _ = build_site(site)
    output = config.output_dir
    before = snapshot(output)
    articles = output / "articles"
    next_tick(site, articles)
    page = next(articles.iterdir())
    shutil.rmtree(page)
    listed.clear()
    with site_cache(site) as cache:
        found = publish.missing_outputs(cache, output, partial(cache.output_urls, str(output)))
    assert (found, listed) == ({f"/articles/{page.name}/"}, [articles])
    _, result = build_site(site)
    assert result.written == 1
    assert snapshot(output) == before


def test_an_edit_rebuild_lists_no_folder(make_site: MakeSite, listed: list[Path]) -> None:
    """Nor does the writer list the folders of the pages it keeps: the check before the
    rebuild told it what is missing."""
    site = make_site(SITE)
    build_site(site)
    (site / "seeds" / "a.txt").write_text("Roma – Un testo.\nUn paragrafo cambiato.\n", "utf-8")
    listed.clear()
    _, result = build_site(site)
    assert result.kept_plan
    assert listed == []


def test_a_forgotten_layout_lists_every_folder_and_restores_all(
    make_site: MakeSite, listed: list[Path]
) -> None:
    site = make_site(SITE)
    config, _ = build_site(site)
    output = config.output_dir
    before = snapshot(output)
    with site_cache(site) as cache:
        publish.record_layout(cache, output, None)
    shutil.rmtree(next((output / "articles").iterdir()))
    (output / "feed.xml").unlink()
    listed.clear()
    _, result = build_site(site)
    assert result.written == 2
    assert output / "articles" in listed
    assert snapshot(output) == before
    assert layout(site) is not None


def test_a_folder_still_missing_a_page_is_not_stamped(tmp_path: Path, listed: list[Path]) -> None:
    output = tmp_path / "build"
    for url in ("/articles/a/index.html", "/tags/x/index.html"):
        (output / url.strip("/")).parent.mkdir(parents=True)
    urls = ["/articles/a/index.html", "/articles/b/index.html", "/tags/x/index.html"]
    cache = Cache(tmp_path / "cache.sqlite")
    try:
        publish.record_layout(
            cache, output, publish.Layout(folders={"articles": "", "tags": ""}, files=())
        )
        assert publish.missing_outputs(cache, output, lambda _: urls) == {"/articles/b/index.html"}
        recorded = publish.recorded_layout(cache, output)
    finally:
        cache.close()
    assert recorded is not None
    assert recorded.folders == {
        "articles": "",
        "tags": write.folder_stamp(output / "tags", write.fs_clock(output))[0],
    }


def test_a_folder_settles_once_the_file_systems_clock_has_ticked_past_its_last_change(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "articles"
    (folder / "a").mkdir(parents=True)
    next_tick(tmp_path, folder)
    clock = write.fs_clock(tmp_path)
    stamp, settled = write.folder_stamp(folder, clock)
    assert (settled, os.listdir(tmp_path)) == (True, ["articles"])  # the probe is gone
    (folder / "b").mkdir()
    changed = write.folder_stamp(folder, clock)
    assert changed == (write.folder_stamp(folder, write.Clock())[0], False) != (stamp, True)


def test_a_folder_the_probe_cannot_tell_of_settles_by_the_machines_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No probe (a folder that cannot be written), or a folder on another file system than
    the probe's (a mount inside the output), whose clock may tick by whole seconds."""
    assert write.fs_clock(tmp_path / "missing") == write.Clock()
    st = os.stat(tmp_path)
    changed = max(st.st_mtime_ns, st.st_ctime_ns)
    for clock in (write.Clock(), write.Clock(device=st.st_dev + 1, time=changed + 1)):
        monkeypatch.setattr(time, "time_ns", lambda: changed + write.SETTLED_NS - 1)
        assert not write.settled(st, clock)
        monkeypatch.setattr(time, "time_ns", lambda: changed + write.SETTLED_NS)
        assert write.settled(st, clock)


def test_a_probe_left_by_a_killed_build_is_removed_and_the_clock_read(tmp_path: Path) -> None:
    (tmp_path / ".newsgen-clock.tmp").write_bytes(b"")
    clock = write.fs_clock(tmp_path)
    assert (clock.device, clock.time > 0) == (tmp_path.stat().st_dev, True)
    assert os.listdir(tmp_path) == []


def test_the_layout_groups_page_folders_by_parent_and_keeps_other_files(tmp_path: Path) -> None:
    urls = [
        "/articles/a/index.html",
        "/articles/a/index.html.gz",
        "/articles/b/index.html",
        "/archive/2020/05/index.html",
        "/index.html",
        "/about/index.html",
        "/feed.xml",
        "/articles/a/photo.jpg",
    ]
    found = publish.layout_of(tmp_path, urls, write.fs_clock(tmp_path))
    assert sorted(found.folders) == ["archive/2020", "articles"]
    assert found.files == (
        "/about/index.html",
        "/articles/a/photo.jpg",
        "/feed.xml",
        "/index.html",
    )


def test_the_urls_below_a_folder_are_those_the_folder_holds(tmp_path: Path) -> None:
    urls = ["/tag/a/", "/tag/a/index.html.gz", "/tag-x/b/", "/tags/c/", "/tag.xml", "/t/ag/"]
    cache = Cache(tmp_path / "cache.sqlite")
    try:
        cache.set_outputs(str(tmp_path / "build"), dict.fromkeys(urls, "k"))
        below = cache.output_urls(str(tmp_path / "build"), {"tag", "t"})
        every = cache.output_urls(str(tmp_path / "build"))
    finally:
        cache.close()
    assert sorted(below) == ["/t/ag/", "/tag/a/", "/tag/a/index.html.gz"]
    assert sorted(every) == sorted(urls)


def test_a_rebuild_lists_a_folder_not_settled_and_asks_for_its_urls_alone(
    make_site: MakeSite, listed: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder written in the file system's last tick before a build took its stamps is
    recorded unsettled: the next build lists it, and needs the URLs of that folder only, not
    of the whole site."""
    site = make_site(SITE)
    config, _ = build_site(site)
    output = config.output_dir
    recorded = layout(site)
    assert recorded is not None and recorded.folders["articles"]
    with site_cache(site) as cache:
        unsettled = {**recorded.folders, "articles": ""}
        publish.record_layout(cache, output, publish.Layout(unsettled, recorded.files))
    asked: list[Collection[str] | None] = []
    real = Cache.output_urls

    def output_urls(cache: Cache, out: str, under: Collection[str] | None = None) -> list[str]:
        asked.append(under)
        return real(cache, out, under)

    monkeypatch.setattr(Cache, "output_urls", output_urls)
    listed.clear()
    _, result = build_site(site)
    assert (result.written, listed, asked) == (0, [output / "articles"], [{"articles"}])
    after = layout(site)
    assert after is not None and after.folders["articles"]


def test_folders_listed_because_unsettled_find_what_a_listing_of_every_folder_finds(
    tmp_path: Path,
) -> None:
    output = tmp_path / "build"
    urls = [
        "/articles/a/",
        "/articles/a/index.html.gz",
        "/articles/b/",
        "/articles/b/index.html.br",
        "/articles/c/index.html",
        "/archive/2020/",
        "/archive/2020/05/",
        "/archive/2020/06/",
        "/tags/x/",
        "/tag/y/",
        "/feed.xml",
        "/articles/feed.xml",
    ]
    for url in urls:
        path = output / url_to_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    for gone in ("articles/b", "archive/2020/06", "tag/y"):
        shutil.rmtree(output / gone)
    (output / "articles" / "feed.xml").unlink()
    written = publish.layout_of(output, urls, write.fs_clock(output))
    unsettled = publish.Layout(dict.fromkeys(written.folders, ""), written.files)
    cache = Cache(tmp_path / "cache.sqlite")
    try:
        publish.record_layout(cache, output, unsettled)
        found = publish.missing_outputs(cache, output, lambda _: urls)
    finally:
        cache.close()
    assert (
        found
        == publish.missing_files(output, urls)
        == {
            "/articles/b/",
            "/articles/b/index.html.br",
            "/archive/2020/06/",
            "/tag/y/",
            "/articles/feed.xml",
        }
    )
