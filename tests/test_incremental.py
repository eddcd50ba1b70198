"""Incremental builds are never stale: after every kind of change, the output of a rebuild
from the cache is byte-identical to a clean build of the same inputs."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from newsgen import collect, theme
from newsgen.build import BuildResult
from newsgen.cache import Cache
from newsgen.write import MARKER
from tests.conftest import SAMPLE, MakeSite, build_site
from tests.util import clean_build, differing, snapshot

Change = Callable[[Path], None]


def edit_body(site: Path) -> None:
    seed = site / "seeds" / "000_4c3b1bedbc3a3e95.txt"
    lines = seed.read_text(encoding="utf-8").split("\n")
    lines[2] += " Una frase aggiunta in redazione."
    seed.write_text("\n".join(lines), encoding="utf-8")


def retitle(site: Path) -> None:
    curated = site / "articles" / "sars-cov-2-one-million.md"
    text = curated.read_text(encoding="utf-8")
    curated.write_text(text.replace("surpasses one million", "passes a million"), "utf-8")


def add_article(site: Path) -> None:
    (site / "seeds" / "030_0123456789abcdef.txt").write_text(
        "Napoli, 3 marzo 2021 – Un nuovo articolo entra nell'archivio.\nSecondo paragrafo.\n",
        encoding="utf-8",
    )


def delete_article(site: Path) -> None:
    (site / "seeds" / "002_c0ff031eacecc0a2.txt").unlink()


def rename_article(site: Path) -> None:
    seeds = site / "seeds"
    (seeds / "009_75c9443493efbe2e.txt").rename(seeds / "099_75c9443493efbe2e.txt")


def change_date(site: Path) -> None:
    curated = site / "articles" / "sars-cov-2-one-million.md"
    text = curated.read_text(encoding="utf-8")
    curated.write_text(text.replace("date: 2020-04-05", "date: 2019-01-10"), "utf-8")


def override_template(site: Path) -> None:
    footer = site / "templates" / "partials" / "footer.html"
    footer.parent.mkdir(parents=True, exist_ok=True)
    footer.write_text('<footer class="colophon"><p>Archivio di prova</p></footer>\n', "utf-8")


def change_config(site: Path) -> None:
    config = site / "newsgen.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("per_page: 3", "per_page: 4"), encoding="utf-8"
    )


def add_static_file(site: Path) -> None:
    static = site / "templates" / "static" / "assets" / "extra.css"
    static.parent.mkdir(parents=True, exist_ok=True)
    static.write_text("body { margin: 0; }\n", encoding="utf-8")


CHANGES = [
    edit_body,
    retitle,
    add_article,
    delete_article,
    rename_article,
    change_date,
    override_template,
    change_config,
    add_static_file,
]

# Pages rewritten with the bytes they had: listings keyed by the content of the articles they
# show (edit_body, change_date), pages keyed by a source's path (rename_article), every page
# when anything in the theme folder changes (override_template, add_static_file).
SAME_BYTES = {
    "edit_body": 6,
    "rename_article": 8,
    "change_date": 1,
    "override_template": 14,
    "add_static_file": 56,
}


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
def test_a_rebuild_after_a_change_equals_a_clean_build(change: Change, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    config, _ = build_site(site)
    before = snapshot(config.output_dir)
    change(site)
    config, result = build_site(site)
    after = snapshot(config.output_dir)
    assert after == clean_build(site, tmp_path)
    # Written: every page whose bytes changed, and the few whose key changed with the same
    # bytes (counted here, so that a key grown too wide shows); removed: exactly those gone.
    pages = [n for n in differing(before, after) if not n.startswith(("pagefind/", MARKER))]
    changed = [name for name in pages if name in after]
    gone = [name for name in pages if name not in after]
    same_bytes = result.written - len(changed)
    assert (same_bytes, result.removed) == (SAME_BYTES.get(change.__name__, 0), len(gone))


def test_one_edit_rewrites_only_the_pages_that_show_the_article(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    config, first = build_site(site)
    before = snapshot(config.output_dir)
    edit_body(site)
    _, result = build_site(site)
    after = snapshot(config.output_dir)
    # The search index's files are the indexer's (its share is tested in test_search).
    changed = sorted(
        n for n in after if not n.startswith(("pagefind/", MARKER)) and before.get(n) != after[n]
    )
    assert result.enriched == 1
    # Pages that show the article are rendered again (its page, its neighbours, the listings
    # and feeds it is on); only some of those bytes change. Nothing else is touched.
    assert len(changed) <= result.written < first.written / 4
    assert any(name.startswith("articles/il-governo-federale") for name in changed)


def test_nothing_changed_writes_nothing(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    build_site(site)
    _, result = build_site(site)
    assert isinstance(result, BuildResult)
    assert (result.written, result.removed, result.enriched) == (0, 0, 0)


def test_a_cold_build_reads_each_seed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its worker hashes a seed seen for the first time as it reads it: no pass before."""
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    reads: list[str] = []
    real = collect.read_source

    def counted(path: str, limit: int | None = None, mb: float = 0) -> bytes:
        reads.append(Path(path).name)
        return real(path, limit, mb)

    monkeypatch.setattr(collect, "read_source", counted)
    build_site(site)
    seeds = sorted(p.name for p in (site / "seeds").glob("*.txt"))
    assert sorted(name for name in reads if name.endswith(".txt")) == seeds


def test_a_seed_read_for_the_first_time_is_remembered_by_its_hash(tmp_path: Path) -> None:
    """Added to a built site, it is enriched (read once); the next build finds nothing to do,
    and the cache holds its hash as a file read before would have it."""
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    build_site(site)
    add_article(site)
    _, added = build_site(site)
    _, again = build_site(site)
    assert added.enriched == 1
    assert (again.written, again.enriched) == (0, 0)
    new = site / "seeds" / "030_0123456789abcdef.txt"
    cache = Cache(site / ".newsgen" / "cache.sqlite")
    try:
        _, size, _, sha = cache.file_hashes()["seeds/030_0123456789abcdef.txt"]
    finally:
        cache.close()
    assert sha == hashlib.sha256(new.read_bytes()).hexdigest()
    assert size in (new.stat().st_size, -1)  # -1: written within the racy interval


def test_the_cache_forgets_old_rows_once_they_are_a_tenth_of_it(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache.sqlite")
    for n in range(300):
        cache.put_unit(f"u{n}", n, f"b{n}", f"<p>{n}</p>")
    cache.commit()

    def kept() -> int:
        return len(cache.units(f"u{n}" for n in range(300)))

    cache.prune([f"u{n}" for n in range(290)], [f"b{n}" for n in range(290)])
    assert kept() == 300  # ten stale rows are cheaper to keep than to delete
    cache.prune([f"u{n}" for n in range(100)], [f"b{n}" for n in range(100)])
    assert kept() == 100
    assert cache.db.execute("SELECT count(*) FROM bodies").fetchone() == (100,)
    cache.close()


def test_a_large_url_registry_does_not_lock_the_renderers_out(tmp_path: Path) -> None:
    """The registry is remembered in the cache while pages render. Written (not committed)
    rows past SQLite's page cache spill into the file under an exclusive lock, which would
    lock out every connection reading bodies: 100k articles found it."""
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    lines = [f'"old-{n:06d}":\n- /articles/old-{n:06d}/' for n in range(80_000)]
    (site / "urls.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config, result = build_site(site)
    files = [n for n in snapshot(config.output_dir) if not n.startswith(("pagefind/", MARKER))]
    assert result.written == len(files) == 63  # with _headers


def test_weekday_names_are_kept_for_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Babel's data for them took a tenth of a second of every build that read a seed."""
    from newsgen import load
    from newsgen.collect import _weekdays_file
    from newsgen.load import babel_weekday_names

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setattr(load._Weekdays, "names", None)  # as a new process has them
    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site)
    build_site(site)
    cache = Cache(site / ".newsgen" / "cache.sqlite")
    try:
        kept = _weekdays_file(cache)
    finally:
        cache.close()
    assert kept.parent == tmp_path / "user-cache" / "newsgen"
    assert frozenset(json.loads(kept.read_text("utf-8"))) == babel_weekday_names()
    kept.write_text('["not a weekday"]', "utf-8")  # used as it is by the next site
    other = tmp_path / "other"
    shutil.copytree(SAMPLE, other)
    build_site(other)
    assert json.loads(kept.read_text("utf-8")) == ["not a weekday"]


def test_detected_languages_can_be_looked_up_one_by_one(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache.sqlite")
    cache.put_language("sample-a", "it")
    lookup = cache.language_lookup()
    assert lookup.get("sample-a") == "it"
    assert lookup.get("sample-b") is None
    assert (len(lookup), list(lookup)) == (1, ["sample-a"])
    cache.close()


def test_a_new_cache_has_pages_that_hold_a_whole_body(tmp_path: Path) -> None:
    """Bodies of a few kB spilled into overflow pages with SQLite's default 4 kB pages."""
    cache = Cache(tmp_path / "cache.sqlite")
    assert cache.db.execute("PRAGMA page_size").fetchone() == (16384,)
    cache.close()


def test_a_changed_file_of_the_packaged_theme_reaches_a_built_site(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = tmp_path / "theme"
    shutil.copytree(theme.THEME, packaged)
    monkeypatch.setattr(theme, "THEME", packaged)
    site = make_site({"seeds/a.txt": "Roma – Il consiglio ha approvato il bilancio.\n"})
    config, _ = build_site(site)
    script = packaged / "static" / "assets" / "search.js"
    script.write_text(script.read_text(encoding="utf-8") + "// a new version\n", "utf-8")
    build_site(site)
    # Under a new name (a hash of its content), which the search page links.
    published = theme.fingerprinted("/assets/search.js", script.read_bytes())
    assert (config.output_dir / published[1:]).read_bytes() == script.read_bytes()
    page = (config.output_dir / "search" / "index.html").read_text(encoding="utf-8")
    assert f'src="{published}"' in page
    assert len(list((config.output_dir / "assets").glob("search.*.js"))) == 1
