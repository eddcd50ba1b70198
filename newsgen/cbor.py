"""Just enough CBOR (RFC 8949) to rewrite Pagefind's metadata file: unsigned and negative
integers, byte and text strings, arrays, maps and the simple values false, true and null."""

from __future__ import annotations

import struct
from typing import Any

_SIMPLE = {20: False, 21: True, 22: None}


def loads(data: bytes) -> Any:
    value, end = _read(data, 0)
    if end != len(data):
        raise ValueError(f"{len(data) - end} bytes after the CBOR value")
    return value


def dumps(value: Any) -> bytes:
    if value is None or isinstance(value, bool):
        return bytes([0xE0 | {False: 20, True: 21, None: 22}[value]])
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        encoded = value.encode("utf-8")
        return _head(3, len(encoded)) + encoded
    if isinstance(value, list):
        return _head(4, len(value)) + b"".join(dumps(v) for v in value)
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(dumps(k) + dumps(v) for k, v in value.items())
    raise TypeError(f"cannot write {type(value).__name__} as CBOR")


def _head(major: int, number: int) -> bytes:
    """The shortest head for `number`, as a canonical encoder writes it."""
    for limit, extra, fmt in (
        (24, 0, ""),
        (0x100, 24, ">B"),
        (0x10000, 25, ">H"),
        (0x100000000, 26, ">I"),
        (1 << 64, 27, ">Q"),
    ):
        if number < limit:
            tail = struct.pack(fmt, number) if fmt else b""
            return bytes([major << 5 | (extra or number)]) + tail
    raise ValueError(f"{number} is too large for CBOR")


def _read(data: bytes, at: int) -> tuple[Any, int]:
    major, info = data[at] >> 5, data[at] & 0x1F
    number, at = _number(data, at + 1, info)
    if major == 0:
        return number, at
    if major == 1:
        return -1 - number, at
    if major in (2, 3):
        chunk = data[at : at + number]
        return (chunk if major == 2 else chunk.decode("utf-8")), at + number
    if major == 4:
        items = []
        for _ in range(number):
            item, at = _read(data, at)
            items.append(item)
        return items, at
    if major == 5:
        mapping = {}
        for _ in range(number):
            key, at = _read(data, at)
            mapping[key], at = _read(data, at)
        return mapping, at
    if major == 7 and info in _SIMPLE:
        return _SIMPLE[info], at
    raise ValueError(f"unsupported CBOR item (major type {major}, info {info})")


def _number(data: bytes, at: int, info: int) -> tuple[int, int]:
    if info < 24:
        return info, at
    size = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
    if size is None:
        raise ValueError(f"unsupported CBOR length (info {info})")
    return int.from_bytes(data[at : at + size], "big"), at + size
