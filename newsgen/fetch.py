"""`newsgen images fetch`: copy every image the site's articles show into its media store.

Remote images are downloaded politely (a User-Agent naming newsgen, at most two requests at a
time to one host, a timeout on every request, retries with growing pauses for answers that may
pass), a few hosts at a time; images in the site are copied in. Every file is checked by
Pillow before it enters the store, under its content's hash, by a rename: a download cut off
(even by kill -9) leaves at most a hidden `.part` file, removed by the next run. The manifest
is saved every few seconds and at the end, so a second run fetches only what is missing or
failed.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import ipaddress
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import IO
from urllib.parse import urljoin, urlsplit

from newsgen import __version__, write
from newsgen.config import MB, Config, site_relative
from newsgen.images import NotAnImage, inspect
from newsgen.load import parse_curated, parse_seed
from newsgen.markup import image_urls
from newsgen.media import (
    MANIFEST,
    Entry,
    is_local,
    is_remote,
    manifest_text,
    read_manifest,
    store_dir,
)
from newsgen.media import reference as as_reference

USER_AGENT = f"newsgen/{__version__} (static news archive; mirrors images an article shows)"
WORKERS = 8
PER_HOST = 2
MAX_REDIRECTS = 5
SAVE_EVERY = 2.0  # seconds between saves of the manifest during a run
CHUNK = 64 * 1024


class Refused(Exception):
    """Why one image is not in the store: `kind` counts it in the summary line."""

    def __init__(self, kind: str, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.kind, self.transient = kind, transient


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """How to fetch: the limits of newsgen.yaml, and the pauses between tries."""

    allow_hosts: frozenset[str] = frozenset()
    max_bytes: int = 20 * MB
    timeout: float = 20.0
    attempts: int = 3
    backoff: float = 1.0  # seconds before the second try; doubled before each next one


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    ref: str
    entry: Entry
    fetched: bool = False  # newly put in the store (else: already there, or failed)
    kind: str = ""  # why it failed, for the summary


@dataclass(slots=True, kw_only=True)
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        fetched = sum(1 for o in self.outcomes if o.fetched)
        there = sum(1 for o in self.outcomes if o.entry.ok and not o.fetched)
        failed = Counter(o.kind for o in self.outcomes if not o.entry.ok)
        why = ", ".join(f"{n} {kind}" for kind, n in sorted(failed.items(), key=_by_count))
        tail = f" ({why})" if why else ""
        return (
            f"Images: {fetched} fetched, {there} already there, "
            f"{sum(failed.values())} failed{tail}."
        )


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


# --- the story ------------------------------------------------------------------------------


def fetch_images(
    config: Config,
    *,
    policy: Policy | None = None,
    jobs: int = WORKERS,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Fetch every image the site's articles show that the store lacks, or that failed."""
    policy = policy or Policy(
        allow_hosts=frozenset(config.allow_hosts),
        max_bytes=int(config.max_image_mb * MB),
    )
    store = store_dir(config)
    store.mkdir(parents=True, exist_ok=True)
    _remove_parts(store)
    used = references(config)
    manifest = read_manifest(store)
    present = set(os.listdir(store))
    report = Report()
    todo = []
    for ref in sorted(used):
        known = manifest.get(ref)
        if known and known.ok and known.file in present and not is_local(ref):
            report.outcomes.append(Outcome(ref=ref, entry=known))
        else:
            todo.append(ref)
    saver = _Saver(store, manifest, used)
    fetcher = _Fetcher(config, store, policy)
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for done, outcome in enumerate(pool.map(fetcher.one, todo), start=1):
                report.outcomes.append(outcome)
                saver.add(outcome.entry)
                if not outcome.entry.ok:
                    report.problems.append(_problem(used[outcome.ref], outcome))
                if progress:
                    progress(done, len(todo))
    finally:
        saver.save()
    return report


def _problem(files: list[str], outcome: Outcome) -> str:
    where = files[0] + (f" (and {len(files) - 1} more)" if len(files) > 1 else "")
    return f"{where}: image {outcome.ref}: {outcome.entry.reason}"


class _Saver:
    """The manifest as the run goes: the entries of images still used, saved now and then."""

    def __init__(self, store: Path, manifest: dict[str, Entry], used: dict[str, list[str]]):
        self.store, self.used = store, used
        self.entries = {ref: e for ref, e in manifest.items() if ref in used}
        self.last = time.monotonic()

    def add(self, entry: Entry) -> None:
        self.entries[entry.ref] = entry
        if time.monotonic() - self.last > SAVE_EVERY:
            self.save()

    def save(self) -> None:
        self.last = time.monotonic()
        text = manifest_text(self.entries.values())
        path = self.store / MANIFEST
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write.write_atomic(path, text.encode())


def _remove_parts(store: Path) -> None:
    """Downloads a killed run left (`.part-<pid>-…`), unless their process still runs."""
    for path in store.glob(".part-*"):
        pid = path.name.split("-")[1]
        if not (pid.isdigit() and write.running(int(pid))):
            path.unlink(missing_ok=True)


# --- what the articles show -----------------------------------------------------------------


def references(config: Config) -> dict[str, list[str]]:
    """Every image reference of the site's seeds and articles (bodies, trailing galleries,
    lead images), with the files that use it, in file order."""
    used: dict[str, list[str]] = defaultdict(list)
    for folder, suffix, parse in (
        ("seeds", ".txt", parse_seed),
        ("articles", ".md", parse_curated),
    ):
        base = config.source_dir(folder)
        for path in sorted(base.glob(f"*{suffix}")) if base.is_dir() else ():
            name = site_relative(path, config.root)
            try:
                if path.stat().st_size > config.max_file_bytes:
                    continue
                draft, _ = parse(name, path.read_bytes())
            except OSError:
                continue
            if draft is None:
                continue
            refs = [i.url for i in draft.related] + image_urls(draft.blocks)
            if draft.meta.image:
                refs.insert(0, draft.meta.image)
            for ref in dict.fromkeys(as_reference(r) for r in refs if r.strip()):
                if _ours(ref):
                    used[ref].append(name)
    return dict(used)


def _ours(ref: str) -> bool:
    """Whether a reference is the store's to mirror (or to refuse with a reason)."""
    scheme = ref.split(":", 1)[0].lower() if ":" in ref.split("/")[0] else ""
    return scheme in ("http", "https", "file", "data") or is_local(ref)


# --- one image ------------------------------------------------------------------------------


class _Fetcher:
    def __init__(self, config: Config, store: Path, policy: Policy) -> None:
        self.config, self.store, self.policy = config, store, policy
        self.hosts: dict[str, threading.Semaphore] = defaultdict(
            lambda: threading.Semaphore(PER_HOST)
        )
        self.lock = threading.Lock()
        self.count = 0

    def one(self, ref: str) -> Outcome:
        try:
            part = self._part()
            try:
                claimed = self._into(ref, part)
                stored = self._store(part, claimed)
            finally:
                part.unlink(missing_ok=True)
        except Refused as exc:
            entry = Entry(ref=ref, status="failed", reason=str(exc))
            return Outcome(ref=ref, entry=entry, kind=exc.kind)
        return Outcome(ref=ref, entry=stored.entry(ref), fetched=True)

    def _part(self) -> Path:
        with self.lock:
            self.count += 1
            return self.store / f".part-{os.getpid()}-{self.count}"

    def _into(self, ref: str, part: Path) -> str:
        """Write the image's bytes to `part`; returns the media type its source claims."""
        lowered = ref.lower()
        if lowered.startswith("file:"):
            raise Refused(
                "refused",
                "file: URLs are never fetched (they name a file of whatever machine builds); "
                "put the image in the site and write its path",
            )
        if lowered.startswith("data:"):
            raise Refused(
                "refused",
                "data: URLs are not mirrored; save the image as a file in the site and write "
                "its path",
            )
        if is_remote(ref):
            return self._download(ref, part)
        return _copy_local(self.config, ref, part, self.policy.max_bytes)

    def _download(self, url: str, part: Path) -> str:
        for attempt in range(self.policy.attempts):
            try:
                return _follow(url, part, self.policy, self.hosts)
            except Refused as exc:
                if not exc.transient or attempt + 1 == self.policy.attempts:
                    raise
            time.sleep(self.policy.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _store(self, part: Path, claimed: str) -> Stored:
        size = part.stat().st_size
        if size == 0:
            raise Refused("empty", "is empty (0 bytes)")
        with part.open("rb") as handle:
            head = handle.read(512)
        _refuse_markup(head, claimed)
        try:
            found = inspect(part)
        except NotAnImage as exc:
            said = f"claims to be {claimed} but is " if claimed.startswith("image/") else "is "
            raise Refused("not an image", said + str(exc)) from exc
        sha = _sha256(part)
        name = f"{sha[:24]}.{found.kind}"
        os.replace(part, self.store / name)
        return Stored(file=name, sha256=sha, width=found.width, height=found.height)


@dataclass(frozen=True, slots=True, kw_only=True)
class Stored:
    file: str
    sha256: str
    width: int
    height: int

    def entry(self, ref: str) -> Entry:
        return Entry(
            ref=ref,
            status="ok",
            file=self.file,
            sha256=self.sha256,
            width=self.width,
            height=self.height,
        )


def _refuse_markup(head: bytes, claimed: str) -> None:
    start = head.lstrip()[:256].lower()
    if "svg" in claimed or start.startswith(b"<svg") or (b"<svg" in start and b"<?xml" in start):
        raise Refused(
            "SVG",
            "is an SVG image: SVG can carry scripts and is never mirrored or inlined; "
            "it stays where it is (or use a PNG or JPEG copy)",
        )
    if claimed in ("text/html", "application/xhtml+xml") or start.startswith(
        (b"<!doctype html", b"<html")
    ):
        raise Refused("HTML", f"answered an HTML page ({claimed or 'text/html'}), not an image")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy_local(config: Config, ref: str, part: Path, limit: int) -> str:
    source = (config.root / ref).resolve()
    if not source.is_relative_to(config.root) or not source.is_file():
        raise Refused("missing", f"no such file in the site ({site_relative(source, config.root)})")
    size = source.stat().st_size
    if size > limit:
        raise Refused("too big", _too_big(size, limit))
    part.write_bytes(source.read_bytes())
    return ""


def _too_big(size: int, limit: int) -> str:
    return (
        f"is {size / MB:.3g} MB, over max_image_mb ({limit / MB:g}); it stays where it is; "
        "raise max_image_mb in newsgen.yaml to mirror it"
    )


# --- the network ----------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by `_follow`, which checks every host on the way."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _follow(url: str, part: Path, policy: Policy, hosts: dict[str, threading.Semaphore]) -> str:
    seen = [url]
    while True:
        host = _check_host(url, policy)
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with hosts[host]:
            try:
                with _OPENER.open(request, timeout=policy.timeout) as response:
                    return _save(response, response.headers, part, policy)
            except urllib.error.HTTPError as exc:
                location = exc.headers.get("Location") if exc.code in _REDIRECTS else None
                if location is None:
                    raise _http_refused(exc) from exc
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise Refused("no answer", f"no answer ({reason})", transient=True) from exc
        url = urljoin(url, location)
        if url in seen:
            raise Refused("redirect loop", f"redirects in a loop ({' → '.join([*seen, url])})")
        seen.append(url)
        if len(seen) > MAX_REDIRECTS + 1:
            raise Refused("redirect loop", f"redirects more than {MAX_REDIRECTS} times")


_REDIRECTS = (301, 302, 303, 307, 308)


def _http_refused(exc: urllib.error.HTTPError) -> Refused:
    transient = exc.code == 429 or exc.code >= 500
    return Refused(
        f"HTTP {exc.code}", f"answered HTTP {exc.code} ({exc.reason})", transient=transient
    )


def _check_host(url: str, policy: Policy) -> str:
    """The URL's host, when newsgen may ask it: an http(s) URL whose host resolves to no
    loopback, private or otherwise non-public address, unless newsgen.yaml allows it."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused("refused", f"is not a URL newsgen can read ({exc})") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise Refused("refused", f"leads to {url}, which is not an http(s) URL")
    if host in policy.allow_hosts:
        return host
    addresses = _addresses(host, port)
    if isinstance(addresses, str):
        raise Refused("no answer", f"its host {host} is not found ({addresses})")
    for address in sorted(addresses):
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise Refused(
                "refused",
                f"its host {host} is at {address}, a loopback or private address; list "
                f"{host} under allow_hosts in newsgen.yaml to fetch it",
            )
    return host


@functools.lru_cache(maxsize=4096)
def _addresses(host: str, port: int) -> frozenset[str] | str:
    """The addresses `host` resolves to, or why it does not. Asked once per host and run: a
    name that does not resolve now will not in a second, and a site's thousands of images on
    one lost host would each wait for the resolver (10k offline: 5 a second, 50 minutes)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return str(exc)
    return frozenset(str(info[4][0]) for info in infos)


def _save(response: IO[bytes], headers: Message, part: Path, policy: Policy) -> str:
    claimed = (headers.get_content_type() if headers.get("Content-Type") else "").lower()
    length = headers.get("Content-Length")
    if length and length.isdigit() and int(length) > policy.max_bytes:
        raise Refused("too big", _too_big(int(length), policy.max_bytes))
    total = 0
    with part.open("wb", buffering=0) as out:
        for block in _blocks(response):
            total += len(block)
            if total > policy.max_bytes:
                raise Refused("too big", _too_big(total, policy.max_bytes) + " (or more)")
            out.write(block)
    if length and length.isdigit() and total < int(length):
        raise Refused(
            "cut off",
            f"the download was cut off ({total} of {length} bytes)",
            transient=True,
        )
    return claimed


def _blocks(response: IO[bytes]) -> Iterator[bytes]:
    try:
        # read1: what has arrived, not a whole CHUNK (a slow server's bytes reach the disk).
        read = getattr(response, "read1", response.read)
        yield from iter(lambda: read(CHUNK), b"")
    except (OSError, http.client.IncompleteRead) as exc:
        raise Refused("cut off", f"the download was cut off ({exc!r})", transient=True) from exc
