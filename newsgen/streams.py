"""The server-sent event streams of `newsgen serve`: every open page listens on one, and one
thread serves them all.

A thread per stream, each waiting for news, would hold a thread for every open page and learn
that its page went away only when a keep-alive fails to write, seconds later: after a reload of
every page, the streams of the old pages and of the new ones would all be counted. One
selector over every stream sees a page go at once, and writes each event to every page without
waiting for any of them.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
import weakref
from typing import cast

KEEP_ALIVE_SECONDS = 15.0
MAX_UNSENT = 1 << 20  # bytes of events waiting for a page that does not read them


class Streams:
    """Open event streams, at most `limit`; each gets the text it was adopted with, then
    everything sent after that."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._unsent: dict[socket.socket, bytearray] = {}
        self._added: list[socket.socket] = []
        self._adopted: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._closed = False
        self._wake_in, self._wake_out = socket.socketpair()
        self._wake_in.setblocking(False)
        self._wake_out.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_in, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, daemon=True, name="newsgen-events")
        self._thread.start()

    def adopt(self, stream: socket.socket, start: bytes) -> bool:
        """Take `stream` over (its request read) and send it `start`, then every event; False
        when `limit` streams are open already, or the streams are closed."""
        with self._lock:
            if self._closed or len(self._unsent) >= self.limit:
                return False
            stream.setblocking(False)
            self._unsent[stream] = bytearray(start)
            self._added.append(stream)
            self._adopted.add(stream)
        self._wake()
        return True

    def owns(self, stream: socket.socket) -> bool:
        """Whether `stream` was adopted: then only the streams' thread closes it."""
        with self._lock:
            return stream in self._adopted

    def count(self) -> int:
        with self._lock:
            return len(self._unsent)

    def send(self, text: bytes) -> None:
        with self._lock:
            for unsent in self._unsent.values():
                unsent += text
        self._wake()

    def close(self) -> None:
        """Close every stream, and stop the thread."""
        with self._lock:
            self._closed = True
        self._wake()
        self._thread.join(timeout=5)

    def _wake(self) -> None:
        # Full of wake-ups already, or closed with the streams: either way nothing to add.
        with contextlib.suppress(OSError):
            self._wake_out.send(b"\0")

    def _run(self) -> None:
        ping = time.monotonic() + KEEP_ALIVE_SECONDS
        while True:
            for key, _ in self._selector.select(max(0.0, ping - time.monotonic())):
                stream = cast(socket.socket, key.fileobj)
                if stream is self._wake_in:
                    _drain(stream)
                elif not _still_open(stream):
                    self._drop(stream)
            with self._lock:
                if self._closed:
                    break
                added, self._added = self._added, []
                if time.monotonic() >= ping:
                    ping = time.monotonic() + KEEP_ALIVE_SECONDS
                    # A comment line: it finds the pages that went away without closing.
                    for unsent in self._unsent.values():
                        unsent += b": keep-alive\n\n"
            for stream in added:
                self._selector.register(stream, selectors.EVENT_READ)
            self._flush()
        self._shut()

    def _flush(self) -> None:
        watched = self._selector.get_map()
        with self._lock:
            # A stream adopted since the wake-up is watched (and written) at the next one.
            waiting = [
                (s, bytes(text)) for s, text in self._unsent.items() if text and s in watched
            ]
        for stream, text in waiting:
            try:
                sent = stream.send(text)
            except BlockingIOError:
                sent = 0
            except OSError:
                self._drop(stream)
                continue
            with self._lock:
                unsent = self._unsent[stream]
                del unsent[:sent]
                left = len(unsent)
            if left > MAX_UNSENT:
                self._drop(stream)  # a page that reads nothing
                continue
            # Told when it can take more, rather than tried again at every wake-up.
            wanted = selectors.EVENT_READ | (selectors.EVENT_WRITE if left else 0)
            if self._selector.get_key(stream).events != wanted:
                self._selector.modify(stream, wanted)

    def _drop(self, stream: socket.socket) -> None:
        with self._lock:
            del self._unsent[stream]
        with contextlib.suppress(KeyError):  # adopted, but not watched yet
            self._selector.unregister(stream)
        stream.close()

    def _shut(self) -> None:
        for stream in list(self._unsent):
            self._drop(stream)
        self._selector.close()
        self._wake_in.close()
        self._wake_out.close()


def _drain(wake: socket.socket) -> None:
    with contextlib.suppress(BlockingIOError):
        while wake.recv(4096):
            pass


def _still_open(stream: socket.socket) -> bool:
    """Whether `stream` is still open, after reading (and dropping) whatever the page sent."""
    try:
        return bool(stream.recv(4096))
    except BlockingIOError:
        return True
    except OSError:
        return False
