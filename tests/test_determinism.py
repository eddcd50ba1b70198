"""Two builds of the same inputs are byte-identical: whatever order the files were created in,
whatever PYTHONHASHSEED, with one worker or two. Each build runs the real CLI in its own process."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from tests.util import differing, in_subprocess, snapshot

SAMPLE = Path(__file__).resolve().parent / "data" / "sample"
# Cases whose outcome depends on order if anything does: colliding slugs, identical texts.
EXTRA = {
    "seeds/collide_a.txt": "Stesso titolo\n\nRoma – Il primo testo sullo stesso tema.\n",
    "seeds/collide_b.txt": "Stesso titolo\n\nMilano – Il secondo testo sullo stesso tema.\n",
    "seeds/collide_c.txt": "Stesso titolo\n\nTorino – Il terzo testo sullo stesso tema.\n",
    "seeds/twin_a.txt": "Napoli – Un testo che compare due volte nel raccolto.\n",
    "seeds/twin_b.txt": "Napoli – Un testo che compare due volte nel raccolto.\r\n",
}


def make_site(root: Path, order: random.Random | None) -> Path:
    """The sample site plus EXTRA, its files created in the given shuffled order (None:
    reversed), so that creation order and modification times differ between copies."""
    files = {
        p.relative_to(SAMPLE).as_posix(): p.read_bytes() for p in SAMPLE.rglob("*") if p.is_file()
    }
    files.update({name: text.encode() for name, text in EXTRA.items()})
    names = sorted(files)
    if order is None:
        names.reverse()
    else:
        order.shuffle(names)
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
    return root


def cli_build(site: Path, *, hash_seed: str, jobs: int) -> dict[str, bytes]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["PYTHONHASHSEED"] = hash_seed
    done = in_subprocess("build", "--site", str(site), "--jobs", str(jobs), "-q", env=env)
    assert done.returncode == 0, done.stderr
    return snapshot(site / "build")


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, bytes]]:
    runs = [(random.Random(1), "0", 1), (random.Random(2), "12345", 2), (None, "4000000000", 2)]
    return [
        cli_build(make_site(tmp_path_factory.mktemp("site"), order), hash_seed=seed, jobs=jobs)
        for order, seed, jobs in runs
    ]


def test_builds_are_not_trivial(builds: list[dict[str, bytes]]) -> None:
    articles = [n for n in builds[0] if n.startswith("articles/") and n.endswith("/index.html")]
    assert len(articles) == 11 + 4  # the sample, three colliding titles, one of the twins
    assert "articles/stesso-titolo-3/index.html" in builds[0]


def test_shuffled_file_order_and_hash_seed_give_the_same_bytes(
    builds: list[dict[str, bytes]],
) -> None:
    assert differing(builds[0], builds[1]) == []


def test_one_worker_or_two_give_the_same_bytes(builds: list[dict[str, bytes]]) -> None:
    assert differing(builds[0], builds[2]) == []
    assert differing(builds[1], builds[2]) == []


def test_a_rebuild_from_the_cache_gives_the_same_bytes(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", random.Random(3))
    first = cli_build(site, hash_seed="1", jobs=2)
    for path in sorted((site / "seeds").iterdir()):
        path.write_bytes(path.read_bytes())  # new modification times, same content
    shutil.rmtree(site / "build" / "articles")
    assert differing(first, cli_build(site, hash_seed="2", jobs=1)) == []
