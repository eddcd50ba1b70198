"""The command line: arguments, progress, the summary line and exit codes.

The only module that prints. Exit 0 on success (warnings allowed), 1 when the build fails or
`--strict` sees any problem, 2 for a usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from newsgen import __version__
from newsgen.build import BuildResult, build
from newsgen.check import check_site
from newsgen.config import Config, ConfigError, load_config
from newsgen.parallel import default_jobs
from newsgen.records import Problem
from newsgen.write import OutputError

REPEATS_SHOWN = 5


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"Error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsgen", description="Turn scraped news articles into a static archive site."
    )
    parser.add_argument("--version", action="version", version=f"newsgen {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub = commands.add_parser("build", help="build the site into the output folder")
    add_build_options(sub)
    sub.set_defaults(run=run_build)
    add_check_command(commands)
    return parser


def add_build_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--site", type=Path, default=Path("."), help="the site folder (default: the current folder)"
    )
    sub.add_argument("--output", help="output folder (default: build, or 'output' in newsgen.yaml)")
    sub.add_argument("--base-url", help="public URL of the site, overriding newsgen.yaml")
    sub.add_argument(
        "--strict", action="store_true", help="exit 1 when there is any warning or error"
    )
    sub.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=default_jobs(),
        help="worker processes (default: the number of cores)",
    )
    loud = sub.add_mutually_exclusive_group()
    loud.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    loud.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="print every problem and the timing of each stage",
    )


def site_config(args: argparse.Namespace) -> Config:
    if not args.site.is_dir():
        raise ConfigError(
            [
                f"--site: {args.site} is not a folder; give the folder that "
                "holds seeds/ and articles/"
            ]
        )
    return load_config(args.site, {"output": args.output, "base_url": args.base_url})


def run_build(args: argparse.Namespace) -> int:
    config = site_config(args)
    progress = Progress(sys.stderr) if not args.quiet and sys.stderr.isatty() else None
    try:
        result = build(config, jobs=max(1, args.jobs), progress=progress)
    except OutputError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    finally:
        if progress:
            progress.clear()
    report_problems(result.problems, sys.stderr, every=args.verbose)
    for note in result.notes:
        print(f"Note: {note}", file=sys.stderr)
    if not args.quiet:
        print(summary(result), file=sys.stderr)
    return 1 if args.strict and result.problems else 0


def add_check_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "check", help="verify a built site: links, assets, HTML, feeds, sitemap, orphans"
    )
    sub.add_argument(
        "--site", type=Path, default=Path("."), help="the site folder (default: the current folder)"
    )
    sub.add_argument("--output", help="the built folder (default: the site's output folder)")
    sub.add_argument("--base-url", help="public URL of the site, overriding newsgen.yaml")
    sub.add_argument(
        "--external", action="store_true", help="also fetch links to other sites (needs a network)"
    )
    sub.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for each outside link"
    )
    sub.add_argument(
        "--jobs", "-j", type=int, default=default_jobs(), help="worker processes for parsing"
    )
    sub.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    config = site_config(args)
    output = config.output_dir
    if not (output / "index.html").is_file():
        print(f"Error: {output} holds no built site; run 'newsgen build' first", file=sys.stderr)
        return 1
    report = check_site(
        output,
        config.base_url,
        external=args.external,
        timeout=args.timeout,
        jobs=max(1, args.jobs),
    )
    for problem in report.problems:
        print(problem)
    outside = f", {_count(report.external, 'outside link')}" if args.external else ""
    print(
        f"Checked {_count(report.pages, 'file')}, {_count(report.links, 'link')}{outside}: "
        f"{_count(len(report.problems), 'problem')}.",
        file=sys.stderr,
    )
    return 1 if report.problems else 0


def report_problems(problems: Sequence[Problem], out: TextIO, *, every: bool = False) -> None:
    """One line per problem; past five of the same kind, one line with the count."""
    by_message: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_message[problem.message].append(problem)
    for group in by_message.values():
        shown = group if every else group[:REPEATS_SHOWN]
        for problem in shown:
            print(problem, file=out)
        if len(group) > len(shown):
            print(f"... and {len(group) - len(shown)} more: {group[0].message}", file=out)


def summary(result: BuildResult) -> str:
    warnings = sum(1 for p in result.problems if p.level == "warning")
    errors = sum(1 for p in result.problems if p.level == "error")
    return (
        f"Built {result.articles} articles, {result.pages} pages "
        f"({result.written} written, {result.removed} removed) in {result.seconds:.2f} s; "
        f"{_count(warnings, 'warning')}, {_count(errors, 'error')}, "
        f"{_count(result.skipped, 'skipped file')}."
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n:,} {noun}s"


class Progress:
    """A one-line progress bar on a terminal, redrawn at most ten times a second."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        width = 30
        filled = width * done // max(total, 1)
        self.out.write(f"\r{stage:<8} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        self.out.flush()

    def clear(self) -> None:
        self.out.write("\r\x1b[K")
        self.out.flush()
