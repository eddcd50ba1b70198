"""What `newsgen serve` refuses before a request reaches the site: each check returns the
error status and why, or None.

A malformed path is a 400 and a path that no file can have is a 414, decided on the text of
the request alone, before the file system sees it; a body, which a preview never needs, is read
and dropped up to a bound so that the next request on the connection is read from its start,
and refused (413) past it; a `Host` header that is not a name of the preview is a 400.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from email.message import Message
from io import BufferedIOBase
from urllib.parse import unquote_to_bytes

# A file name has at most 255 bytes (NAME_MAX) and a path 4,096 (PATH_MAX): a longer URL names
# no file.
MAX_REQUEST_LINE = 8192
MAX_PATH = 4096
MAX_SEGMENT = 255
MAX_BODY = 65536
MAX_CHUNK_LINE = 1024

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,8})(;[^\r\n]*)?\r?\n")
TOO_LARGE = f"the request body is over {MAX_BODY:,} bytes, and a preview needs none"
BAD_CHUNK = "a chunk of the request body is malformed"


@dataclass(frozen=True, slots=True)
class Refusal:
    """An error status for a request, and why: what the answer and the console line say."""

    status: int
    reason: str


def check_target(target: str) -> Refusal | None:
    """Why a request target (ASCII, as sent) cannot name a file of the site: malformed (400),
    or longer than a file's path can be (414)."""
    path = target.partition("?")[0]
    decoded = b"" if _BAD_PERCENT.search(path) else unquote_to_bytes(path)
    if "\0" in target or b"\0" in decoded:
        return Refusal(400, "the path holds a NUL byte")
    if _CONTROL.search(target) or _CONTROL.search(decoded.decode("latin-1")):
        return Refusal(400, "the path holds a control character")
    if not target.isascii():
        return Refusal(400, "the request target holds bytes that are not %-escaped")
    if not target.startswith("/"):
        return Refusal(400, "the request target is not a path that starts with /")
    if len(path) > MAX_PATH:
        return Refusal(414, f"the path is longer than {MAX_PATH:,} bytes")
    if _BAD_PERCENT.search(path):
        return Refusal(400, "the path holds a % that is not followed by two hexadecimal digits")
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "the path is not UTF-8 once its %-escapes are decoded")
    if any(len(segment) > MAX_SEGMENT for segment in decoded.split(b"/")):
        return Refusal(414, f"a segment of the path is longer than {MAX_SEGMENT} bytes")
    return None


def discard_body(headers: Message, body: BufferedIOBase) -> Refusal | None:
    """Read the body the `headers` announce from `body`, and drop it; a body that cannot be
    read so (too large, framed in two ways, malformed) is refused, and left unread."""
    codings = headers.get_all("Transfer-Encoding", [])
    lengths = headers.get_all("Content-Length", [])
    if codings and lengths:
        return Refusal(400, "the request has both Transfer-Encoding and Content-Length")
    if codings:
        names = [c.strip().lower() for c in ",".join(codings).split(",")]
        if names != ["chunked"]:
            return Refusal(400, f"Transfer-Encoding {', '.join(names)} is not understood")
        return _discard_chunks(body)
    if not lengths:
        return None
    if len(set(lengths)) > 1 or not re.fullmatch(r"[0-9]+", lengths[0].strip()):
        return Refusal(400, f"Content-Length {', '.join(lengths)} is not one number")
    size = int(lengths[0])
    if size > MAX_BODY:
        return Refusal(413, TOO_LARGE)
    if len(body.read(size)) < size:
        return Refusal(400, "the request body ended before its Content-Length")
    return None


def _discard_chunks(body: BufferedIOBase) -> Refusal | None:
    left = MAX_BODY
    while True:
        line = _CHUNK_SIZE.fullmatch(body.readline(MAX_CHUNK_LINE))
        if not line:
            return Refusal(400, BAD_CHUNK)
        size = int(line[1], 16)
        left -= size
        if left < 0:
            return Refusal(413, TOO_LARGE)
        if size == 0:
            break
        if not body.read(size + 2).endswith(b"\n"):
            return Refusal(400, BAD_CHUNK)
    while (trailer := body.readline(MAX_CHUNK_LINE)) not in (b"\r\n", b"\n"):
        left -= len(trailer)
        if not trailer.endswith(b"\n") or left < 0:
            return Refusal(400, "the trailer of the request body is malformed")
    return None


@dataclass(frozen=True, slots=True)
class Hosts:
    """The `Host` headers the preview answers to: the loopback names and the address it listens
    on, each with its port; when that address is every address (0.0.0.0, ::), any IP address
    too. A page of another site that points its own name at this machine (DNS rebinding) sends
    its own name, and an IP address cannot be pointed anywhere."""

    names: tuple[str, ...]
    port: int
    any_address: bool

    @classmethod
    def of(cls, host: str, port: int) -> Hosts:
        names = dict.fromkeys(("localhost", "127.0.0.1", "[::1]", _bracketed(host.lower())))
        any_address = host in ("0.0.0.0", "::")
        return cls(tuple(f"{name}:{port}" for name in names), port, any_address)

    def check(self, sent: list[str]) -> Refusal | None:
        """Why the `Host` headers `sent` are refused (None when they are not)."""
        if len(sent) != 1:
            heard = "no Host header" if not sent else "more than one Host header"
            return Refusal(400, f"the request has {heard}; {self._served()}")
        name, port = _host_and_port(sent[0].strip().lower())
        if f"{name}:{port}" in self.names or (self.any_address and self._is_ip(name, port)):
            return None
        shown = sent[0] if len(sent[0]) <= 100 else sent[0][:100] + "..."
        return Refusal(400, f"the host {shown!r} is not served here; {self._served()}")

    def _is_ip(self, name: str, port: str) -> bool:
        try:
            ipaddress.ip_address(name.removeprefix("[").removesuffix("]"))
        except ValueError:
            return False
        return port == str(self.port)

    def _served(self) -> str:
        names = ", ".join(self.names)
        anything = " and any IP address of this machine" if self.any_address else ""
        return (
            f"this preview answers to {names}{anything}; "
            "to reach it by another name, start it with --host NAME"
        )


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _host_and_port(header: str) -> tuple[str, str]:
    """`name:port` split; no port means port 80."""
    if header.startswith("["):
        name, _, rest = header.partition("]")
        return name + "]", rest.removeprefix(":") if rest else "80"
    name, colon, port = header.rpartition(":")
    return (name, port) if colon else (header, "80")


def printable(text: str, limit: int) -> str:
    """`text` for one console line: shortened, controls escaped (a request can hold terminal
    escapes)."""
    text = text if len(text) <= limit else text[:limit] + "..."
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: f"\\x{ord(m[0]):02x}", text)
