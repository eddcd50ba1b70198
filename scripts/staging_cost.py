"""What would building into a staging folder and swapping it into place cost?

Usage: python scripts/staging_cost.py SITE [RUNS]

SITE must be built already. Measures, RUNS times each, medians printed:
- an incremental build after one seed changed (today's writes: stage changed files, rename);
- the extra work a staging swap needs on every build: a hard-link copy of the output (the
  cheapest complete staging folder), two renames, and deleting the previous tree;
- a plain copy of the output (staging without hard links), once.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def incremental_build(site: Path, run: int) -> float:
    seed = sorted((site / "seeds").glob("*.txt"))[run]
    with seed.open("a", encoding="utf-8") as handle:
        handle.write(f"Una frase aggiunta per la misura {run}.\n")
    command = [sys.executable, "-m", "newsgen", "build", "--site", str(site), "-q"]
    return timed(lambda: subprocess.run(command, check=True, stderr=subprocess.DEVNULL))


def link_farm(source: Path, target: Path) -> None:
    for folder, _dirs, files in os.walk(source):
        relative = Path(folder).relative_to(source)
        (target / relative).mkdir(exist_ok=True)
        for name in files:
            os.link(Path(folder) / name, target / relative / name)


def staging_overhead(output: Path) -> tuple[float, float, float]:
    staging, old = output.with_name("build.staging"), output.with_name("build.old")
    farm = timed(lambda: link_farm(output, staging))
    swap = timed(lambda: (output.rename(old), staging.rename(output)))
    remove = timed(lambda: shutil.rmtree(old))
    return farm, swap, remove


def main() -> None:
    site = Path(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    output = site / "build"
    files = sum(len(f) for _, _, f in os.walk(output))
    builds = [incremental_build(site, run) for run in range(runs)]
    overheads = [staging_overhead(output) for _ in range(runs)]
    farm, swap, remove = (statistics.median(x) for x in zip(*overheads, strict=True))
    copy = timed(lambda: shutil.copytree(output, output.with_name("build.copy")))
    shutil.rmtree(output.with_name("build.copy"))
    build = statistics.median(builds)
    print(f"output: {files:,} files")
    print(f"incremental build, in place (median of {runs}): {build:.2f} s")
    print(f"staging: hard-link copy {farm:.2f} s + swap {swap:.4f} s + delete old {remove:.2f} s")
    print(f"incremental build with a staging swap: {build + farm + swap + remove:.2f} s")
    print(f"staging by plain copy instead of hard links: {copy:.2f} s")


if __name__ == "__main__":
    main()
