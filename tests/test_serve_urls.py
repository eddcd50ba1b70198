"""A preview publishes what a build would: the same URLs and the same redirects, an open page
whose headline changed is redirected, and `urls.yaml` is never written (issue 16)."""

from __future__ import annotations

import http.client
import shutil
import time
from pathlib import Path

import pytest

from newsgen.build import build
from newsgen.config import load_config
from tests.conftest import SAMPLE, MakeSite, build_site
from tests.test_serve import BASE, NEW_SEED, RECOVER_DEADLINE_MS, Server, save

FIRST = "Roma – Il sindaco ha inaugurato il nuovo ponte sul Tevere davanti a mille persone.\n"
LEDES = (
    FIRST,
    "Roma – Il prefetto ha chiuso il vecchio ponte sul Tevere per lavori urgenti.\n",
    "Roma – La città ha riaperto il ponte sul Tevere dopo tre mesi di cantiere.\n",
)
REST = "Un secondo paragrafo resta uguale a ogni modifica del primo.\n"
URLS = (
    "/articles/il-sindaco-ha-inaugurato-il-nuovo-ponte-sul-tevere-davanti-a-mille-persone/",
    "/articles/il-prefetto-ha-chiuso-il-vecchio-ponte-sul-tevere-per-lavori-urgenti/",
    "/articles/la-citta-ha-riaperto-il-ponte-sul-tevere-dopo-tre-mesi-di-cantiere/",
)


def published(site: Path) -> tuple[set[str], str]:
    """The article pages of a built site, and its redirects file ("" when it has none)."""
    output = site / "build"
    pages = {f"/articles/{p.name}/" for p in (output / "articles").iterdir()}
    redirects = output / "_redirects"
    return pages, redirects.read_text(encoding="utf-8") if redirects.exists() else ""


@pytest.mark.parametrize("seed", ["seeds/ponte.txt", "seeds/001_00000000000000aa.txt"])
def test_a_preview_publishes_the_urls_and_redirects_a_build_would(
    make_site: MakeSite, tmp_path: Path, seed: str
) -> None:
    built = make_site({seed: FIRST + REST}, tmp_path / "built")
    previewed = make_site({seed: FIRST + REST}, tmp_path / "previewed")
    for lede in LEDES:
        for site in (built, previewed):
            (site / seed).write_text(lede + REST, encoding="utf-8")
        build_site(built)
        build(load_config(previewed), jobs=1, drafts=True)
        assert published(previewed) == published(built)
    pages, redirects = published(built)
    assert pages == set(URLS)
    assert redirects.splitlines() == [f"{url} {URLS[2]} 301" for url in sorted(URLS[:2])]
    assert not (previewed / "urls.yaml").exists()


def test_a_build_after_previews_publishes_only_what_was_published(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """URLs only a preview showed were never published: the next build records none of
    them, and its next preview no longer redirects them."""
    site = make_site({"seeds/ponte.txt": FIRST + REST})
    build_site(site)
    (site / "seeds/ponte.txt").write_text(LEDES[1] + REST, encoding="utf-8")
    build(load_config(site), jobs=1, drafts=True)
    assert published(site)[1] == f"{URLS[0]} {URLS[1]} 301\n"
    (site / "seeds/ponte.txt").write_text(LEDES[2] + REST, encoding="utf-8")
    build(load_config(site), jobs=1, drafts=True)
    assert published(site)[1] == f"{URLS[1]} {URLS[2]} 301\n{URLS[0]} {URLS[2]} 301\n"
    build_site(site)
    assert published(site)[1] == f"{URLS[0]} {URLS[2]} 301\n"
    build(load_config(site), jobs=1, drafts=True)
    assert published(site)[1] == f"{URLS[0]} {URLS[2]} 301\n"


def get(server: Server, target: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_for(server: Server, target: str, status: int) -> bytes:
    deadline = time.monotonic() + RECOVER_DEADLINE_MS / 1000
    while time.monotonic() < deadline:
        got, body = get(server, target)
        if got == status:
            return body
        time.sleep(0.05)
    pytest.fail(f"{target} never answered {status}:\n{server.err.read_text()}")


def test_serve_redirects_the_open_page_when_its_headline_changes(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    (site / NEW_SEED).write_text(FIRST + REST, encoding="utf-8")
    server = Server(site)
    try:
        wait_for(server, BASE + URLS[0].lstrip("/"), 200)
        for lede, url in zip(LEDES[1:], URLS[1:], strict=True):
            save(site / NEW_SEED, lede + REST)
            wait_for(server, BASE + url.lstrip("/"), 200)
        for old in URLS[:2]:
            page = wait_for(server, BASE + old.lstrip("/"), 200)
            refresh = f'<meta http-equiv="refresh" content="0; url={BASE}{URLS[2].lstrip("/")}">'
            assert refresh.encode() in page
    finally:
        code, err = server.stop()
    assert code == 0, err
    assert not (site / "urls.yaml").exists()
