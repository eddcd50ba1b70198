"""Full-text search: the build's own articles become Pagefind indexes, in shards.

Pagefind is fed records straight from the build (headline, dateline, body text, filters) rather
than crawling the written HTML, which is what made it slow and memory-hungry on large sites.
Articles are split into shards by language (so each shard gets its language's stemmer) and, for
large languages, by a stable hash of the article id, so one edit re-indexes one shard only. Each
shard is a complete Pagefind bundle under `<output>/pagefind/<shard>/`; `shards.json` beside them
names them, and the search page merges them in the browser (Pagefind's `mergeIndex`).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import gzip
import hashlib
import html
import json
import math
import os
import re
import shutil
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsgen import __version__, cbor, route
from newsgen.plan import article_url, fold
from newsgen.records import Article
from newsgen.write import write_all, write_atomic

BUNDLE = "pagefind"
MANIFEST = "shards.json"
SHARD_SIZE = 1000
"""Articles per shard at most (before the next doubling): small enough that re-indexing one
shard after an edit is cheap, large enough that the browser merges few indexes."""
RECORDS = 6
"""The shape of the records given to Pagefind and of the bundles kept: a new shape re-indexes
every shard. (5: pages keep Pagefind's names again. Named by their place in the shard, they
made the metadata a third smaller, but one edit then renamed every fragment of its shard:
at 100k, 2,250 files to publish again instead of one. 6: each bundle also has its metadata
without the sort orders.)"""
_BATCH = 500
# Files of a Pagefind bundle that the search page never loads: Pagefind's own UIs (the theme
# draws its results itself, as text), 280 kB a shard.
_UNUSED = frozenset(
    {
        "pagefind-ui.js",
        "pagefind-ui.css",
        "pagefind-component-ui.js",
        "pagefind-component-ui.css",
        "pagefind-modular-ui.js",
        "pagefind-modular-ui.css",
        "pagefind-highlight.js",
    }
)
# What earlier versions copied beside the shards for the search page.
_OLD_UI_FILES = ("pagefind-ui.js", "pagefind-ui.css")

# Filter names are part of the index, so they are written in the site's language.
FILTER_NAMES: dict[str, tuple[str, str, str]] = {
    "en": ("Language", "Place", "Year"),
    "it": ("Lingua", "Luogo", "Anno"),
    "fr": ("Langue", "Lieu", "Année"),
    "de": ("Sprache", "Ort", "Jahr"),
    "es": ("Idioma", "Lugar", "Año"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """One article as Pagefind sees it."""

    url: str
    lang: str
    title: str
    content: str
    filters: dict[str, list[str]]
    meta: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Shard:
    name: str
    lang: str
    articles: tuple[Article, ...]
    digest: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexReport:
    """What `index_site` did: for the build summary and the benchmark."""

    shards: int
    indexed: int
    records: int
    seconds: float
    bytes: int


Bodies = Callable[[Article], str]


# --- sharding (pure) ------------------------------------------------------------------------


def shard_site(articles: Sequence[Article], site_language: str) -> list[Shard]:
    """Live articles grouped into shards, the site language's first. A shard's digest changes
    exactly when the index it produces would."""
    by_lang: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        if not article.draft:
            by_lang[_lang_code(article.lang)].append(article)
    shards: list[Shard] = []
    size = shard_size(sum(len(members) for members in by_lang.values()))
    for lang in sorted(by_lang, key=lambda code: (code != _lang_code(site_language), code)):
        members = by_lang[lang]
        count = bucket_count(len(members), size)
        buckets: dict[int, list[Article]] = defaultdict(list)
        for article in members:
            buckets[bucket_of(article.id, count)].append(article)
        for bucket in sorted(buckets):
            items = tuple(sorted(buckets[bucket], key=lambda a: a.slug))
            shards.append(
                Shard(
                    name=f"{lang}-{bucket}",
                    lang=lang,
                    articles=items,
                    digest=shard_digest(items, site_language),
                )
            )
    return shards


def shard_size(articles: int) -> int:
    """SHARD_SIZE, or a sixteenth of the archive when that is more, up to MAX_SHARD_SIZE: the
    browser loads every shard's metadata and an index chunk per shard and word, so a large
    archive must not be many small shards (100k articles: 160 shards took 5 s to a first
    result, 22 took 2 s), but a Pagefind process indexing a shard holds about 160 kB an
    article (6,250: 1 GB), and one edit re-indexes a shard."""
    return min(MAX_SHARD_SIZE, max(SHARD_SIZE, articles // SHARDS_AT_SCALE))


SHARDS_AT_SCALE = 16
MAX_SHARD_SIZE = 2500


def bucket_count(articles: int, size: int = SHARD_SIZE) -> int:
    """1 up to `size` articles, then doubling: an article changes bucket only when its
    language's count crosses a power of two, so shards stay stable between builds."""
    if articles <= size:
        return 1
    return int(2 ** math.ceil(math.log2(articles / size)))


def bucket_of(article_id: str, count: int) -> int:
    return int(hashlib.sha256(article_id.encode()).hexdigest()[:8], 16) % count


def shard_digest(articles: Iterable[Article], site_language: str) -> str:
    """Every input of a shard's index: the fields indexed (the body by its content key), the
    filter names, and the newsgen and Pagefind versions that write it."""
    digest = hashlib.sha256(
        f"{__version__}\0{RECORDS}\0{_pagefind_version()}\0{site_language}".encode()
    )
    for a in articles:
        fields = (a.slug, a.title, a.dateline, a.date, a.lang, a.body_key)
        digest.update(repr(fields).encode() + b"\0")
    return digest.hexdigest()[:32]


def _lang_code(lang: str) -> str:
    return re.sub(r"[^a-z0-9-]", "", lang.lower().replace("_", "-")) or "unknown"


# --- records (pure) -------------------------------------------------------------------------

_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|figcaption|blockquote|pre|td|th)>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def body_text(body_html: str) -> str:
    """Plain text of a body rendered by newsgen (raw HTML is off, so tags are well formed)."""
    text = _TAG.sub("", _BLOCK_END.sub("\n", body_html))
    return _SPACE.sub(" ", html.unescape(text)).strip()


def make_record(article: Article, body_html: str, site_language: str) -> Record:
    """Headline, dateline and body: nothing of the page around them."""
    lang_name, place_name, year_name = FILTER_NAMES.get(site_language, FILTER_NAMES["en"])
    filters = {lang_name: [language_name(article.lang, site_language)]}
    if article.dateline:
        filters[place_name] = [article.dateline]
    # Undated articles get a year value of their own, so that a reader can choose them.
    filters[year_name] = [str(article.date.year) if article.date else UNDATED]
    # The headline and the place are searched as metadata (Pagefind indexes every meta
    # field); the content is the body without the headline, so that an excerpt never
    # repeats what the result's heading already says.
    meta = {"title": article.title, "lang": article.lang}
    if article.dateline:
        meta["place"] = article.dateline
    if article.date:
        meta["date"] = article.date.isoformat()
    return Record(
        url=article_url(article.slug),
        lang=_lang_code(article.lang),
        title=article.title,
        content=without_headline(body_text(body_html), article.title),
        filters=filters,
        meta=meta,
    )


UNDATED = "–"
"""The year filter's value for articles without a date (the page shows it in words)."""

_DASHES = " \t–—-:,."
_LEAD = 80
"""How far into the body a headline taken from the lede may start: after a dateline such as
"Roma –" or "17 août 2012. -"."""


def without_headline(text: str, title: str) -> str:
    """The body after the headline, where the headline is the body's first words (a headline
    taken from the lede, cut with "…" or not), a dateline before it allowed; else all of it."""
    stem = title.removesuffix("…").rstrip()
    at = text.find(stem, 0, _LEAD + len(stem)) if stem else -1
    if at < 0:
        return text
    return text[at + len(stem) :].lstrip(_DASHES + '.!?…"”»’)]') or text


@functools.cache
def language_name(lang: str, site_language: str) -> str:
    """`de` shown to an Italian reader as `tedesco`; an unknown code stays as written. Cached:
    asked once an article, Babel's parsing took 0.4 s of indexing 10k articles."""
    import babel

    try:
        name = babel.Locale.parse(lang, sep="-" if "-" in lang else "_").get_display_name(
            babel.Locale.parse(site_language, sep="-" if "-" in site_language else "_")
        )
    except (ValueError, babel.UnknownLocaleError):
        return lang
    return name or lang


# --- indexing -------------------------------------------------------------------------------


def index_site(
    articles: Sequence[Article],
    bodies: Bodies,
    output: Path,
    site_language: str,
    *,
    jobs: int = 1,
) -> IndexReport:
    """Bring `<output>/pagefind/` up to date: index the shards whose digest changed (or whose
    files are missing), remove shards that no longer exist, write the manifest."""
    started = time.perf_counter()
    root = output / BUNDLE
    shards = shard_site(articles, site_language)
    previous = _read_manifest(root)
    stale = [
        s
        for s in shards
        if previous.get(s.name, ("", 0))[0] != s.digest
        or not (root / s.name / "pagefind-entry.json").is_file()
    ]
    sizes = {name: size for name, (_, size) in previous.items()}
    sizes.update(_index_shards(stale, bodies, root, site_language, jobs_for(stale, jobs)))
    _remove_old(root, previous.keys() - {s.name for s in shards})
    _remove_old_ui(root)
    routes = _write_routes(root, shards, {s.name for s in stale}, _routes_before(root))
    _write_manifest(root, shards, sizes, site_language, routes)
    return IndexReport(
        shards=len(shards),
        indexed=len(stale),
        records=sum(len(shard.articles) for shard in stale),
        seconds=time.perf_counter() - started,
        bytes=sum(sizes[s.name] for s in shards),
    )


def remove_index(output: Path) -> None:
    """Delete the search index of an earlier build (the site no longer has search)."""
    root = output / BUNDLE
    if root.is_dir() and not root.is_symlink():
        shutil.rmtree(root)


def index_present(output: Path) -> bool:
    """Whether the search index of the last build is all there (a build that finds nothing
    else changed still repairs a deleted index)."""
    root = output / BUNDLE
    names = _read_manifest(root)
    return (
        (root / MANIFEST).is_file()
        and all((root / name / "pagefind-entry.json").is_file() for name in names)
        and all((root / route.ROUTES / lang / "keys.json").is_file() for lang in _routes(root))
    )


def _manifest(root: Path) -> Any:
    """The manifest as written, or None when it cannot be read."""
    try:
        return json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _routes(root: Path) -> dict[str, str]:
    """The routed languages the manifest names, with the digests of their routing."""
    try:
        routes = _manifest(root).get("routes", {})
        return {str(lang): str(digest) for lang, digest in routes.items()}
    except AttributeError:
        return {}


def _shards_before(root: Path) -> dict[str, list[str]]:
    """Language → its shards' names in the manifest's order, as the manifest names them."""
    try:
        found: dict[str, list[str]] = defaultdict(list)
        for shard in _manifest(root)["shards"]:
            found[str(shard["lang"])].append(str(shard["name"]))
        return dict(found)
    except (KeyError, TypeError):
        return {}


INDEXING_BUDGET = 3000
"""Articles indexed at once at most: a Pagefind process holds about 230 kB an article while
it indexes (measured at 100k: two shards of 2,250 at once took the indexing to 1.09 GB summed
PSS, the largest process 526 MB)."""


def jobs_for(shards: Sequence[Shard], jobs: int) -> int:
    """`jobs`, or fewer when the shards are so large that as many at once would pass the
    memory budget (one at a time whatever their size)."""
    largest = max((len(shard.articles) for shard in shards), default=1)
    return max(1, min(jobs, INDEXING_BUDGET // largest))


def _index_shards(
    shards: Sequence[Shard], bodies: Bodies, root: Path, site_language: str, jobs: int
) -> dict[str, int]:
    """Up to `jobs` Pagefind processes at once. Records are made here, in the calling thread
    (the body store may be bound to it), at most `jobs` shards ahead, so memory stays bounded."""
    sizes: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        running: dict[Future[int], str] = {}
        for shard in shards:
            if len(running) >= max(1, jobs):
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                sizes.update({running.pop(future): future.result() for future in done})
            records = [make_record(a, bodies(a), site_language) for a in shard.articles]
            running[pool.submit(_write_shard, shard.name, records, root)] = shard.name
        sizes.update({name: future.result() for future, name in running.items()})
    return sizes


def _write_shard(name: str, records: Sequence[Record], root: Path) -> int:
    """Index into a fresh folder, then swap it in: a failed run never leaves half a shard.
    Returns the bytes written."""
    fresh = root / f".{name}.new"
    shutil.rmtree(fresh, ignore_errors=True)
    with PagefindService() as service:
        index = service.request({"type": "NewIndex", "config": None})["index_id"]
        for start in range(0, len(records), _BATCH):
            service.requests([_add_record(index, r) for r in records[start : start + _BATCH]])
        size = _write_bundle(canonical_bundle(service.bundle(index)), fresh)
    final = root / name
    old = root / f".{name}.old"
    if final.exists():
        os.replace(final, old)
    os.replace(fresh, final)
    shutil.rmtree(old, ignore_errors=True)
    return size


_META = re.compile(r"^pagefind\.(?P<hash>[^./]+)\.pf_meta$")
_FILTER = re.compile(r"^filter/(?P<hash>[^./]+)\.pf_filter$")
_MAGIC = b"pagefind_dcd"


def canonical_bundle(files: dict[str, bytes]) -> dict[str, bytes]:
    """Pagefind writes a shard's filter values, and the list of its filters, in hash-map
    order, which changes from run to run: the same records gave different bytes. Sorted, and
    each file named by a hash of its sorted content, they do not. A bundle of another shape
    is left as it is."""
    try:
        return _canonical(files)
    except (ValueError, TypeError, KeyError, OSError, EOFError):
        return files


def _canonical(files: dict[str, bytes]) -> dict[str, bytes]:
    out = dict(files)
    renamed: dict[str, str] = {}
    for name, data in files.items():
        match = _FILTER.match(name)
        if match:
            title, values = _decode(data)
            fixed = _encode([title, sorted(values)])
            renamed[match["hash"]] = _rehash(match["hash"], fixed, 7)
            del out[name]
            out[f"filter/{renamed[match['hash']]}.pf_filter"] = gzip.compress(fixed, mtime=0)
    for name, data in files.items():
        match = _META.match(name)
        if match:
            meta = _decode(data)
            meta[3] = sorted([title, renamed.get(file, file)] for title, file in meta[3])
            meta[4] = sorted(meta[4])
            fixed = _encode(meta)
            new = _rehash(match["hash"], fixed, 10)
            del out[name]
            out[f"pagefind.{new}.pf_meta"] = gzip.compress(fixed, mtime=0)
            # Beside it, the same without the sort orders (a fourth of its bytes, a list of
            # every page per sort): what a search by relevance loads (see _first_files).
            lean = _encode([*meta[:4], [], *meta[5:]])
            out[f"pagefind.{_rehash(match['hash'], lean, 10)}.pf_meta"] = gzip.compress(
                lean, mtime=0
            )
            entry = out["pagefind-entry.json"]
            out["pagefind-entry.json"] = entry.replace(match["hash"].encode(), new.encode())
    return out


def _decode(data: bytes) -> Any:
    raw = gzip.decompress(data)
    if not raw.startswith(_MAGIC):
        raise ValueError("not a Pagefind data file")
    return cbor.loads(raw[len(_MAGIC) :])


def _encode(value: Any) -> bytes:
    return _MAGIC + cbor.dumps(value)


def _rehash(old: str, content: bytes, length: int) -> str:
    """`<language>_<hash>` as Pagefind names its files, from the canonical content."""
    return f"{old.rsplit('_', 1)[0]}_{hashlib.sha256(content).hexdigest()[:length]}"


def _write_bundle(files: dict[str, bytes], folder: Path) -> int:
    """Write a bundle's files into a new folder; returns the bytes written. Each folder is made
    once and each file written with plain system calls: a shard of 1,000 articles is about
    1,000 files, and pathlib's mkdir and write_bytes for each took a fifth more time (0.20
    and 0.30 s against 0.16 and 0.25 s for one shard of the browser benchmark's 10k)."""
    size = 0
    made: set[str] = set()
    base = os.fspath(folder)
    for name, data in files.items():
        if name in _UNUSED:
            continue
        path = os.path.join(base, name)
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        size += len(data)
    return size


def _add_record(index: int, record: Record) -> dict[str, object]:
    return {
        "type": "AddRecord",
        "index_id": index,
        "url": record.url,
        "content": record.content,
        "language": record.lang,
        "meta": record.meta,
        "filters": record.filters,
        "sort": {"date": record.meta.get("date", "0000-00-00")},
    }


class SearchError(Exception):
    """Pagefind could not be run, or refused a request."""


class PagefindService:
    """`pagefind --service`, spoken to directly: base64 JSON messages ended by commas.

    Pagefind's own Python wrapper sleeps 0.1 s before reading each reply, so 1,000 records
    took 115 s here; this reads replies as they come. The service reads its input on a
    thread of its own, so writing a whole batch before reading the replies cannot deadlock.
    One process per shard: its memory is returned when the shard is written.
    """

    def __init__(self) -> None:
        # Imported here: it loads asyncio (30 ms), which a build with nothing to index skips.
        from pagefind.service import get_executable

        binary = get_executable()
        if binary is None:
            raise SearchError(
                "Pagefind's binary is missing; reinstall with pip install 'pagefind[extended]'"
            )
        try:
            self.process = subprocess.Popen(
                [str(binary), "--service"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise SearchError(
                f"Pagefind's binary {binary} cannot be run ({exc.strerror or exc}); reinstall "
                "with pip install 'pagefind[extended]'"
            ) from exc
        self.last_id = 0
        self.pending = b""

    def __enter__(self) -> PagefindService:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is not None:
            self.process.kill()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self.process.wait()

    def bundle(self, index: int) -> dict[str, bytes]:
        """The files of the index by path. Not WriteFiles: the service exits as soon as its
        input closes, and then files it had not finished writing were left empty."""
        reply = self.request({"type": "GetFiles", "index_id": index})
        return {f["path"]: base64.b64decode(f["content"]) for f in reply["files"]}

    def request(self, payload: dict[str, object]) -> dict[str, Any]:
        return self.requests([payload])[0]

    def requests(self, payloads: Sequence[dict[str, object]]) -> list[dict[str, Any]]:
        assert self.process.stdin is not None
        first = self.last_id + 1
        try:
            for payload in payloads:
                self.last_id += 1
                message = {"message_id": self.last_id, "payload": payload}
                self.process.stdin.write(base64.b64encode(json.dumps(message).encode()) + b",")
            self.process.stdin.flush()
        except BrokenPipeError:
            raise self._stopped() from None
        replies: dict[int, dict[str, Any]] = {}
        while len(replies) < len(payloads):
            number, reply = self._reply()
            replies[number] = reply
        return [replies[n] for n in range(first, self.last_id + 1)]

    def _reply(self) -> tuple[int, dict[str, Any]]:
        assert self.process.stdout is not None
        while b"," not in self.pending:
            chunk = os.read(self.process.stdout.fileno(), 1 << 16)
            if not chunk:
                raise self._stopped()
            self.pending += chunk
        message, self.pending = self.pending.split(b",", 1)
        data = json.loads(base64.b64decode(message))
        payload: dict[str, Any] = data["payload"]
        if payload.get("type") == "Error":
            raise SearchError(f"Pagefind: {payload.get('message')}")
        return int(data["message_id"]), payload

    def _stopped(self) -> SearchError:
        return SearchError(f"Pagefind stopped unexpectedly (exit {self.process.wait()})")


def _read_manifest(root: Path) -> dict[str, tuple[str, int]]:
    """Shard name → (digest, size in bytes) of the last indexing; an unreadable manifest means
    re-index all."""
    try:
        shards = _manifest(root)["shards"]
        return {str(s["name"]): (str(s["digest"]), int(s["bytes"])) for s in shards}
    except (ValueError, KeyError, TypeError):
        return {}


def _routes_before(root: Path) -> dict[str, str]:
    """Language → digest of its routing as the manifest written before names it, for the
    languages whose routing is there."""
    return {
        lang: digest
        for lang, digest in _routes(root).items()
        if (root / route.ROUTES / lang / "keys.json").is_file()
    }


def _write_routes(
    root: Path, shards: Sequence[Shard], changed: set[str], before: dict[str, str]
) -> dict[str, str]:
    """The routing of each routed language (see newsgen.route), from the words of its shards:
    those re-indexed read from their own index files, the others from the routing written
    before (read from their index files too where it cannot be read). Returns language →
    digest of its routing, for the manifest."""
    by_lang: dict[str, list[str]] = defaultdict(list)
    for shard in shards:
        by_lang[shard.lang].append(shard.name)
    folder = root / route.ROUTES
    digests: dict[str, str] = {}
    kept = _shards_before(root)
    for lang, order in by_lang.items():
        if not route.worth_routing(lang, len(order)):
            continue
        if lang in before and kept.get(lang) == order and not changed.intersection(order):
            digests[lang] = before[lang]  # the same shards, none re-indexed: as it was
            continue
        held = route.routed_words(folder / lang, order)
        words = {
            name: held[name]
            if name in held and name not in changed
            else route.shard_words(root / name)
            for name in order
        }
        files = route.build_routes(words, order, lang, _pagefind_version())
        fresh = folder / f".{lang}.new"
        shutil.rmtree(fresh, ignore_errors=True)
        _write_bundle(files, fresh)
        old = folder / f".{lang}.old"
        if (folder / lang).exists():
            os.replace(folder / lang, old)
        os.replace(fresh, folder / lang)
        shutil.rmtree(old, ignore_errors=True)
        # Of every file: the page asks for each under its key's name with this digest.
        digest = hashlib.sha256()
        for path in sorted(files):
            digest.update(f"{path}\0{len(files[path])}\0".encode() + files[path])
        digests[lang] = digest.hexdigest()[:16]
    for stale in folder.glob("*") if folder.is_dir() else ():
        if stale.name not in digests:
            shutil.rmtree(stale, ignore_errors=True)
    if not digests:
        shutil.rmtree(folder, ignore_errors=True)
    return digests


def _write_manifest(
    root: Path,
    shards: Sequence[Shard],
    sizes: dict[str, int],
    site_language: str,
    routes: dict[str, str],
) -> None:
    """Read by the search page too: which bundles to merge, in which language, and what each
    loads before its first search (its entry, its metadata and WebAssembly files), so the page
    can fetch them all at once; the filters' names, so it can show the filters before it
    loads their values."""
    data = {
        # In the order the page shows them (sorted here: a collator in the page cost 11 ms of
        # its main thread before the first result).
        "filters": sorted(FILTER_NAMES.get(site_language, FILTER_NAMES["en"]), key=fold),
        # Language → digest of its routing (`route/<lang>/`); a language not named here is
        # not routed: a query loads all its shards.
        "routes": routes,
        # Language → the keys its routing has (its `keys.json`; none when it cannot be read,
        # and the page loads all the language's shards): here, the page asks for a query's
        # routing files as soon as it has the manifest, not a round trip later (which
        # queued behind the scripts and WebAssembly for 95 ms at 10k articles).
        "route_keys": {lang: route.keys_of(root / route.ROUTES / lang) or [] for lang in routes},
        "shards": [
            {
                "name": s.name,
                "lang": s.lang,
                "digest": s.digest,
                "articles": len(s.articles),
                "bytes": sizes[s.name],
                **_first_files(root / s.name),
            }
            for s in shards
        ],
    }
    # One line: the search page loads it before anything else.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    write_atomic(root / MANIFEST, (text + "\n").encode())


def _first_files(folder: Path) -> dict[str, Any]:
    """A bundle's entry (the page hands it to Pagefind: a request less a shard) and the names
    of its one language's metadata, of that metadata without its sort orders ("lean", which
    searches by relevance load instead: the other metadata file of the bundle, when there is
    one) and of its WebAssembly."""
    try:
        entry = json.loads((folder / "pagefind-entry.json").read_text(encoding="utf-8"))
        (index,) = entry["languages"].values()
        wasm = index.get("wasm") or "unknown"
        meta = f"pagefind.{index['hash']}.pf_meta"
        others = sorted(p.name for p in folder.glob("pagefind.*.pf_meta") if p.name != meta)
        return {
            "entry": entry,
            "meta": meta,
            **({"lean": others[0]} if len(others) == 1 else {}),
            "wasm": f"wasm.{wasm}.pagefind",
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _remove_old(root: Path, names: Iterable[str]) -> None:
    for name in names:
        if _lang_code(name) == name and (root / name).is_dir():
            shutil.rmtree(root / name)


def _remove_old_ui(root: Path) -> None:
    """The search page no longer loads Pagefind's UI: an output written before keeps no copy."""
    for name in _OLD_UI_FILES:
        (root / name).unlink(missing_ok=True)


def _pagefind_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pagefind")
    except PackageNotFoundError:
        return "unknown"
