"""Bytes → text: open a matter file or stdin, detect its encoding, decode it as a stream with progress.

Detected: a BOM (UTF-8, UTF-16), UTF-16 without a BOM (by the zero bytes of its ASCII characters), UTF-8,
else GB18030 (what Excel and WPS save on Chinese Windows). GBK and GB2312 are read as GB18030, their superset.
"""
from __future__ import annotations

import codecs
import io
import itertools
import os
import sys
from typing import BinaryIO, Iterable, Iterator, Optional

from ..errors import FormatError

SNIFF_BYTES = 1 << 20
_CANONICAL = {"gbk": "gb18030", "gb2312": "gb18030", "utf-8": "utf-8-sig"}  # by codecs.lookup(name).name


class _Source(io.RawIOBase):
    """A binary stream that replays `prefix` first and counts the bytes it hands out (for progress)."""

    def __init__(self, raw: BinaryIO, prefix: bytes = b""):
        self._raw, self._prefix, self.consumed = raw, prefix, 0
        self._read = getattr(raw, "read1", raw.read)

    def readable(self):
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n], self._prefix = self._prefix[:n], self._prefix[n:]
        else:
            data = self._read(len(buffer))  # whatever has arrived: a pipe must not wait for a full buffer
            n = len(data)
            buffer[:n] = data
        self.consumed += n
        return n


def normal_encoding(name: str) -> str:
    """GBK and GB2312 are read as GB18030 (a superset); UTF-8 always drops a BOM."""
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise FormatError(f"未知的编码 '{name}'（可用如 utf-8、gb18030、gbk、utf-16）") from None
    return _CANONICAL.get(codec, codec)


def _decodes(chunks: Iterable[bytes], encoding: str, complete: bool) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for chunk in chunks:
            decoder.decode(chunk)
        if complete:
            decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def _chunks(raw: BinaryIO, size: int = SNIFF_BYTES) -> Iterator[bytes]:
    while True:
        chunk = raw.read(size)
        if not chunk:
            return
        yield chunk


def utf16_without_bom(head: bytes) -> Optional[str]:
    """'utf-16-le' / 'utf-16-be' when `head` looks like UTF-16 without a BOM: text with ASCII characters
    (digits, commas, quotes, line ends) has a zero byte in every other position; UTF-8 and GB18030 text never
    has zero bytes."""
    sample = head[:4096]
    if len(sample) < 4 or sample.count(0) < len(sample) // 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > 4 * max(even, 1):
        found = "utf-16-le"
    elif even > 4 * max(odd, 1):
        found = "utf-16-be"
    else:
        return None
    return found if _decodes([sample[:len(sample) // 2 * 2]], found, complete=False) else None


def detect_encoding(raw: BinaryIO, seekable: bool) -> tuple[str, bytes]:
    """(encoding, bytes already read). UTF-8 (with or without BOM) when the text decodes as UTF-8,
    otherwise GB18030; UTF-16 by its BOM or by its zero bytes.

    A seekable file is checked to the end (so a file that is ASCII for a megabyte and GBK after is not
    misread), then rewound; a pipe is judged by what has arrived (never waiting for more: it may be a
    stream that is still being written).
    """
    head = raw.read(SNIFF_BYTES) if seekable else getattr(raw, "read1", raw.read)(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        found = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        found = "utf-16"
    elif utf16_without_bom(head):
        found = utf16_without_bom(head)
    elif seekable:
        if _decodes(itertools.chain([head], _chunks(raw)), "utf-8", complete=True):  # a chunk at a time
            found = "utf-8-sig"
        else:
            raw.seek(0)
            if not _decodes(_chunks(raw), "gb18030", complete=True):
                raise FormatError("文件既不是 UTF-8 也不是 GB18030/GBK 或 UTF-16 编码；请用 --encoding 指定")
            found = "gb18030"
    else:
        found = "utf-8-sig" if _decodes([head], "utf-8", complete=False) else "gb18030"
    if seekable:
        raw.seek(0)
        return found, b""
    return found, head


class TextSource:
    """A decoded text stream over a file or stdin, with the fraction of bytes consumed."""

    def __init__(self, raw: BinaryIO, encoding: Optional[str], size: Optional[int], seekable: bool):
        prefix = b""
        if encoding:
            self.encoding = normal_encoding(encoding)
        else:
            self.encoding, prefix = detect_encoding(raw, seekable)
        self._raw, self._size, self.streaming = raw, size, not seekable
        self._source = _Source(raw, prefix)
        self.stream = io.TextIOWrapper(io.BufferedReader(self._source, 1 << 16), encoding=self.encoding,
                                       errors="strict", newline="")

    def fraction(self) -> Optional[float]:
        if not self._size:
            return None
        return min(1.0, self._source.consumed / self._size)

    def close(self):
        self._raw.close()


def open_binary(path: Optional[str]) -> tuple[BinaryIO, Optional[int], bool]:
    """(stream, size or None, seekable) for a path, or stdin for None / '-'."""
    if path in (None, "-"):
        stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
        return _Unclosable(stream), None, False
    try:
        raw = open(path, "rb")
    except OSError as exc:
        raise FormatError(f"无法打开：{os_reason(exc)}", path) from None
    return raw, os.fstat(raw.fileno()).st_size, True


def open_text(path: Optional[str], encoding: Optional[str] = None) -> TextSource:
    raw, size, seekable = open_binary(path)
    try:
        return TextSource(raw, encoding, size, seekable)
    except BaseException:
        raw.close()
        raise


class _Unclosable(io.RawIOBase):
    """stdin, read but never closed by us."""

    def __init__(self, stream):
        self._stream = stream

    def readable(self):
        return True

    def read(self, size=-1):
        return self._stream.read(size)

    def read1(self, size=-1):
        return getattr(self._stream, "read1", self._stream.read)(size)

    def readinto(self, buffer):
        data = self.read1(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self):
        pass


def undecodable(exc: UnicodeDecodeError, number: int, encoding: str, path) -> FormatError:
    return FormatError(f"第 {number} 行附近无法按 {encoding} 解码（位置 {exc.start} 的字节 "
                       f"{exc.object[exc.start:exc.start + 4]!r}）；请用 --encoding 指定文件编码", path)


_OS_REASONS = {"ENOENT": "文件或目录不存在", "EACCES": "没有权限", "EPERM": "没有权限", "EISDIR": "这是一个目录",
               "ENOTDIR": "路径中有一段不是目录", "ENOSPC": "磁盘空间不足", "EROFS": "文件系统只读",
               "EEXIST": "文件已存在", "ENAMETOOLONG": "文件名太长"}


def os_reason(exc: OSError) -> str:
    """An OSError in Chinese (the English strerror in brackets for an unlisted one)."""
    import errno
    name = errno.errorcode.get(exc.errno or 0, "")
    return _OS_REASONS.get(name) or f"系统错误（{exc.strerror or exc}）"
