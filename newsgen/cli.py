"""The command line: arguments, progress, the summary line and exit codes.

The only module that prints. Exit 0 on success (warnings allowed), 1 when the build fails or
`--strict` sees any problem, 2 for a usage or configuration error, or when another process is
building the site (without `--wait`).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO, TypeVar

from newsgen import __version__
from newsgen.build import build
from newsgen.cache import Busy, CacheUnusable
from newsgen.config import Config, ConfigError, load_config
from newsgen.parallel import default_jobs
from newsgen.records import Problem
from newsgen.result import DRAFT, SAME_TEXT, WARNED, BuildResult, Tally, local_base_note
from newsgen.search import IndexReport, SearchError
from newsgen.write import OutputError

if TYPE_CHECKING:
    from newsgen.serve import RequestFailed, Serving
    from newsgen.watch import Failed, Rebuilt

# serve, check and the editorial commands import what only they need when they run: a
# `newsgen build` that finds nothing changed is mostly Python start-up and imports.

REPEATS_SHOWN = 5
T = TypeVar("T")


def run() -> NoReturn:
    """The `newsgen` command: `main`, then exit at once. Everything that must reach the disk
    has by then (pages written, cache closed); tearing down every object of a large build
    first took 0.05-0.1 s for nothing (mypy exits the same way)."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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
    sub.add_argument(
        "--drafts", action="store_true", help="build draft articles too, marked as drafts"
    )
    sub.add_argument(
        "--wait",
        action="store_true",
        help="when another newsgen process is building the site, wait for it instead of "
        "exiting with code 2",
    )
    sub.set_defaults(run=run_build)
    add_editorial_commands(commands)
    add_serve_command(commands)
    add_check_command(commands)
    add_images_command(commands)
    return parser


def add_build_options(sub: argparse.ArgumentParser) -> None:
    add_site_option(sub)
    sub.add_argument("--output", help="output folder (default: build, or 'output' in newsgen.yaml)")
    add_base_url_option(sub)
    sub.add_argument(
        "--strict", action="store_true", help="exit 1 when there is any warning or error"
    )
    sub.add_argument(
        "--no-search",
        dest="search",
        action="store_false",
        default=None,
        help="no search index and no search page, overriding 'search' in newsgen.yaml",
    )
    add_jobs_option(sub, "worker processes (default: the number of cores)")
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
    overrides = {
        "output": args.output,
        "base_url": args.base_url,
        "search": getattr(args, "search", None),
    }
    return load_config(args.site, overrides)


def run_build(args: argparse.Namespace) -> int:
    config = site_config(args)
    progress = Progress(sys.stderr) if not args.quiet and sys.stderr.isatty() else None
    try:
        result = build(
            config,
            jobs=max(1, args.jobs),
            progress=progress,
            drafts=args.drafts,
            wait=args.wait,
            waiting=None if args.quiet else lambda holder: _waiting(holder, config),
        )
    except Busy as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except (OutputError, CacheUnusable) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except SearchError as exc:
        # A first build writes into a new folder, which is then discarded.
        pages = "the pages are written" if config.output_dir.is_dir() else "no page was kept"
        print(
            f"Error: the search index could not be written ({exc}); {pages}; "
            "run the build again, and report the error if it persists",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:
        problem = _template_failure(exc, config)
        if problem is None:
            raise
        print(f"Error: {problem}; the pages already built were left as they were", file=sys.stderr)
        return 1
    finally:
        if progress:
            progress.clear()
    report_problems(result.problems, sys.stderr, every=args.verbose)
    for note in result.notes:
        print(f"Note: {note}", file=sys.stderr)
    if args.verbose:
        stages = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result.timings)
        plan = "; the last plan kept" if result.kept_plan else ""
        print(f"Stages: {stages}; {result.enriched} inputs parsed{plan}.", file=sys.stderr)
    if args.verbose and result.search:
        print(search_summary(result.search), file=sys.stderr)
    if not args.quiet:
        print(summary(result), file=sys.stderr)
    local = local_base_note(config.base_url)
    if local and not args.quiet and not args.drafts:  # --drafts says not to publish already
        print(f"Note: {local}", file=sys.stderr)
    return 1 if args.strict and result.problems else 0


def _waiting(holder: str, config: Config) -> None:
    print(
        f"Waiting for another newsgen process ({holder}) to finish building {config.root}...",
        file=sys.stderr,
        flush=True,
    )


def add_images_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser("images", help="the site's media store of mirrored images")
    actions = sub.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = actions.add_parser(
        "fetch",
        help="copy every image the articles show (remote or in the site) into the media store",
    )
    add_site_option(fetch)
    fetch.add_argument(
        "--jobs", "-j", type=int, default=8, help="downloads at a time (at most 2 per host)"
    )
    fetch.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    fetch.set_defaults(run=run_images_fetch)


def run_images_fetch(args: argparse.Namespace) -> int:
    from newsgen.fetch import fetch_images  # the network and Pillow: only for this command

    config = editorial_config(args)
    bar = Progress(sys.stderr) if not args.quiet and sys.stderr.isatty() else None
    report = fetch_images(
        config,
        jobs=max(1, args.jobs),
        progress=None if bar is None else (lambda done, total: bar("images", done, total)),
    )
    if bar:
        bar.clear()
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if not args.quiet or report.problems:
        print(report.summary(), file=sys.stderr)
    return 1 if report.problems else 0


def add_check_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "check", help="verify a built site: links, assets, HTML, feeds, sitemap, orphans"
    )
    add_site_option(sub)
    sub.add_argument("--output", help="the built folder (default: the site's output folder)")
    add_base_url_option(sub)
    sub.add_argument(
        "--external", action="store_true", help="also fetch links to other sites (needs a network)"
    )
    sub.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help="seconds to wait for each outside link, or each answer of --published",
    )
    add_jobs_option(sub, "worker processes for parsing, or requests at a time for --published")
    published = sub.add_argument_group("a published site (checked over HTTP)")
    published.add_argument(
        "--published",
        metavar="URL",
        help="check the site deployed at URL against the local build instead: its pages, "
        "files, redirects and headers",
    )
    published.add_argument(
        "--rate", type=float, default=10.0, help="requests a second, at most (default: 10)"
    )
    published.add_argument(
        "--redirects", type=int, default=20, help="old URLs of _redirects to try (default: 20)"
    )
    published.add_argument(
        "--no-headers",
        dest="headers",
        action="store_false",
        help="leave out the headers of build/_headers (for hosts that cannot send them)",
    )
    sub.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    from newsgen.check import check_site

    config = site_config(args)
    output = config.output_dir
    root = checked_url("--published", args.published) if args.published is not None else None
    for option, value in (("--rate", args.rate), ("--timeout", args.timeout)):
        if root is not None and not value > 0:  # also NaN
            raise ConfigError([f"{option}: expected a number above 0, got {value:g}"])
    if not (output / "index.html").is_file():
        print(f"Error: {output} holds no built site; run 'newsgen build' first", file=sys.stderr)
        return 1
    if root is not None:
        return run_check_published(args, config, root)
    report = check_site(
        output,
        config.base_url,
        external=args.external,
        timeout=args.timeout,
        jobs=max(1, args.jobs),
    )
    for problem in report.problems:
        print(problem)
    if report.remote_images:  # not problems: `remote_images: link` asks for them
        print(
            f"Note: {_count(len(report.remote_images), 'image')} still shown from other hosts; "
            "'newsgen images fetch' mirrors them:",
            file=sys.stderr,
        )
        for line in report.remote_images:
            print(f"  {line}", file=sys.stderr)
    outside = f", {_count(report.external, 'outside link')}" if args.external else ""
    print(
        f"Checked {_count(report.pages, 'file')}, {_count(report.links, 'link')}{outside}: "
        f"{_count(len(report.problems), 'problem')}.",
        file=sys.stderr,
    )
    return 1 if report.problems else 0


def run_check_published(args: argparse.Namespace, config: Config, root: str) -> int:
    from newsgen.published import Options, check_published

    bar = Progress(sys.stderr) if sys.stderr.isatty() else None
    options = Options(
        jobs=max(1, args.jobs),
        rate=args.rate,
        timeout=args.timeout,
        headers=args.headers,
        redirects=max(0, args.redirects),
    )
    try:
        report = check_published(
            root,
            config.output_dir,
            config.base_path,
            options,
            progress=None if bar is None else (lambda done, total: bar("checked", done, total)),
        )
    finally:
        if bar:
            bar.clear()
    for problem in report.problems:
        print(problem)
    for note in report.notes:
        print(f"Note: {note}", file=sys.stderr)
    print(
        f"Checked {root}: {_count(report.requests, 'request')}, "
        f"{_count(report.pages, 'page')} in its sitemap: "
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
        f"Built {_count(result.articles, 'article')}, {_count(result.pages, 'page')} "
        f"({result.written} written, {result.removed} removed) in {result.seconds:.2f} s; "
        f"{_count(warnings, 'warning')}, {_count(errors, 'error')}; {files_summary(result.tally)}."
    )


def files_summary(tally: Tally) -> str:
    """Every input file accounted for: "12 input files: 9 built, 2 skipped (1 with the same
    text as another file, 1 draft), 1 failed"."""
    skipped = sum(n for _, n in tally.skipped)
    why = ", ".join(_SKIPPED[reason](n) for reason, n in tally.skipped)
    return (
        f"{_count(tally.files, 'input file')}: {tally.built:,} built, {skipped:,} skipped"
        f"{f' ({why})' if why else ''}, {tally.failed:,} failed"
    )


_SKIPPED: dict[str, Callable[[int], str]] = {
    SAME_TEXT: lambda n: f"{n:,} with the same text as another file",
    DRAFT: lambda n: _count(n, "draft"),
    WARNED: lambda n: f"{n:,} as warned above",
}


def _template_failure(exc: Exception, config: Config) -> Problem | None:
    """What a failing template means, or None for another error. Jinja is imported here, not
    at start-up: a build that renders nothing never needs it."""
    from newsgen import render

    return render.template_failure(exc, config)


def search_summary(report: IndexReport) -> str:
    return (
        f"Search index: {report.indexed} of {_count(report.shards, 'shard')} indexed "
        f"({_count(report.records, 'article')}) in {report.seconds:.2f} s; "
        f"{report.bytes / 1_000_000:.1f} MB."
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


# --- editorial commands: init, new, import --------------------------------------------------


def add_editorial_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser("init", help="make a new site in a new or empty folder")
    sub.add_argument("dir", type=Path, metavar="DIR", help="the folder of the new site")
    sub.add_argument(
        "--base-url",
        help="the site's public address, such as https://example.org/archive/ (default: "
        "http://localhost:8000/, this machine's, for a preview)",
    )
    sub.set_defaults(run=run_init)
    sub = commands.add_parser("new", help="write a new draft article in articles/")
    sub.add_argument("title", metavar="TITLE", help="the headline")
    sub.add_argument("--slug", help="file name and URL slug (default: from the title)")
    add_site_option(sub)
    sub.set_defaults(run=run_new)
    sub = commands.add_parser(
        "import", help="write articles/ files holding what was derived from seeds, to correct"
    )
    sub.add_argument(
        "seeds", nargs="*", metavar="SEED", help="seed files to import (default: every seed)"
    )
    sub.add_argument(
        "--force", action="store_true", help="replace the files of seeds already curated"
    )
    add_site_option(sub)
    sub.set_defaults(run=run_import)


def add_site_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--site", type=Path, default=Path("."), help="the site folder (default: the current folder)"
    )


def add_base_url_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--base-url", help="public URL of the site, overriding newsgen.yaml")


def add_jobs_option(sub: argparse.ArgumentParser, help: str) -> None:
    sub.add_argument("--jobs", "-j", type=int, default=default_jobs(), help=help)


def editorial_config(args: argparse.Namespace) -> Config:
    if not args.site.is_dir():
        raise ConfigError([f"--site: {args.site} is not a folder; give the folder of the site"])
    return load_config(args.site)


def scaffolded(step: Callable[[], T]) -> T | None:
    """What `step` made, or None once the reason it could not is printed."""
    from newsgen.scaffold import ScaffoldError

    try:
        return step()
    except (ScaffoldError, OSError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return None


def run_init(args: argparse.Namespace) -> int:
    from newsgen import scaffold

    base_url = checked_url("--base-url", args.base_url) if args.base_url is not None else None
    made = scaffolded(lambda: scaffold.init_site(args.dir, base_url))
    if made is None:
        return 1
    print(f"Created a new site in {args.dir}:")
    for name in made:
        print(f"  {name}")
    if base_url is None:
        print(
            "The site's address is http://localhost:8000/ (this machine) until you set "
            f"base_url in {args.dir / 'newsgen.yaml'} to the public one."
        )
    print(f"Next: add seed files to {args.dir / 'seeds'}, then: newsgen build --site {args.dir}")
    return 0


def checked_url(option: str, value: str) -> str:
    """A site's address given as `option`, read as `base_url` in newsgen.yaml is (ending in
    `/`), or a usage error naming the option."""
    from newsgen.config import _check_base_url  # the one check, shared with newsgen.yaml's

    url, problem = _check_base_url(value.strip())
    if problem:
        raise ConfigError([f"{option}: {problem}"])
    return str(url)


def run_new(args: argparse.Namespace) -> int:
    from newsgen import scaffold

    config = editorial_config(args)
    path = scaffolded(lambda: scaffold.new_article(config, args.title, slug=args.slug))
    if path is None:
        return 1
    print(args.site / scaffold.site_path(config, path))
    return 0


def run_import(args: argparse.Namespace) -> int:
    from newsgen import scaffold

    config = editorial_config(args)
    report = scaffolded(lambda: scaffold.import_seeds(config, args.seeds, force=args.force))
    if report is None:
        return 1
    report_problems(report.problems, sys.stderr)
    for item in report.imported:
        if item.file:
            print(f"wrote {item.file} from {item.seed}")
        else:
            print(f"skipped {item.seed}: {item.skipped}")
    written = sum(1 for item in report.imported if item.file)
    print(
        f"Imported {_count(len(report.imported), 'seed')}: {written} written, "
        f"{len(report.imported) - written} skipped."
    )
    return 0


# --- newsgen serve --------------------------------------------------------------------------


def add_serve_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "serve", help="build, serve locally, rebuild on every change and reload open pages"
    )
    add_build_options(sub)
    sub.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, reachable only from this machine)",
    )
    sub.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port to listen on (default: 8000; 0 picks a free one)",
    )
    sub.add_argument("--open", action="store_true", help="open the site in the web browser")
    sub.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from newsgen.serve import ListenError, Options, is_loopback, serve

    if not is_loopback(args.host):
        print(
            f"Warning: --host {args.host} makes the preview reachable from other machines; "
            "leave --host out to serve on 127.0.0.1 only.",
            file=sys.stderr,
        )
    options = Options(host=args.host, port=args.port, jobs=max(1, args.jobs), strict=args.strict)
    try:
        serve(lambda: site_config(args), options, ServeReport(args))
    except (OutputError, ListenError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
    return 0


class ServeReport:
    """Prints what `newsgen serve` reports; called from the thread that builds, and from
    request threads for unexpected errors, hence the lock."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.lock = threading.Lock()
        self.opened = False
        self.seen: set[Problem] = set()

    def __call__(self, news: Serving | Rebuilt | Failed | RequestFailed) -> None:
        from newsgen.serve import Refused, Serving
        from newsgen.watch import STILL_SERVING, Failed, Rebuilt

        with self.lock:
            if isinstance(news, Serving):
                self.serving(news)
            elif isinstance(news, Rebuilt):
                self.rebuilt(news)
            elif isinstance(news, Failed):
                print(f"Error: the change does not build; {STILL_SERVING}:", file=sys.stderr)
                for problem in news.problems:
                    print(problem, file=sys.stderr)
                if news.detail:
                    print(news.detail, file=sys.stderr, end="")
            elif isinstance(news, Refused):  # one line, already written out
                print(news.detail, file=sys.stderr, end="")
            else:
                print(f"Error while answering a request:\n{news.detail}", file=sys.stderr, end="")
            sys.stderr.flush()

    def serving(self, news: Serving) -> None:
        print(f"Serving {news.output} at {news.url} (Ctrl-C to stop)", flush=True)
        if self.args.open and not self.opened:
            self.opened = True
            import webbrowser  # only for --open: it imports the email package

            webbrowser.open(news.url)

    def rebuilt(self, news: Rebuilt) -> None:
        # A rebuild prints only the problems the previous build did not have.
        fresh = [p for p in news.result.problems if p not in self.seen]
        self.seen = set(news.result.problems)
        report_problems(fresh, sys.stderr, every=self.args.verbose)
        for note in news.result.notes:
            print(f"Note: {note}", file=sys.stderr)
        if self.args.quiet:
            return
        if news.first:
            print(summary(news.result), file=sys.stderr)
            return
        changed = (
            "The output folder changed; every open page reloads."
            if news.files is None
            else f"{_count(len(news.files), 'file')} changed; their open pages reload."
        )
        print(f"Rebuilt: {summary(news.result)} {changed}", file=sys.stderr)
