"""CPU cost per article of reading seeds: parse_seed, enrich, and language identification alone.

    .venv/bin/python scripts/read_cost.py SEEDS_DIR [FILES] [ROUNDS]

Reads the first FILES seeds (3000) into memory, then times each stage over all of them ROUNDS
times (5) and prints the best round, in ms per article of process CPU time: on a shared machine
the best round is the one least disturbed. The language model is loaded (and its cache copy
made) in a temporary folder before timing.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from newsgen import enrich as stage
from newsgen import langmodel
from newsgen.load import parse_seed


def best_ms(work: Callable[[], object], count: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best * 1000 / count


def main(seeds: Path, files: int, rounds: int) -> int:
    raws = [(f"seeds/{p.name}", p.read_bytes()) for p in sorted(seeds.glob("*.txt"))[:files]]
    with tempfile.TemporaryDirectory() as cache:
        stage.use_language_model(lambda: langmodel.load(Path(cache)))
        stage.preload_language_model()
        drafts = [d for d, _ in (parse_seed(path, data) for path, data in raws) if d]
        samples = [" ".join(d.blocks[:3])[: stage.LANGUAGE_SAMPLE] for d in drafts]
        parse = best_ms(lambda: [parse_seed(path, data) for path, data in raws], len(raws), rounds)
        enrich = best_ms(
            lambda: [stage.enrich(d, default_lang="it", timezone="UTC") for d in drafts],
            len(drafts),
            rounds,
        )
        lang = best_ms(
            lambda: [stage.detect_language(s, "it") for s in samples], len(drafts), rounds
        )
    print(
        f"{len(raws)} seeds, ms/article: parse {parse:.3f}, language {lang:.3f}, "
        f"rest of enrich {enrich - lang:.3f}, total {parse + enrich:.3f}"
    )
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(
        main(
            Path(args[0]),
            int(args[1]) if len(args) > 1 else 3000,
            int(args[2]) if len(args) > 2 else 5,
        )
    )
