"""Finding and reading the YAML files of a rulebook, bounded: what `check`, `fmt`, `diff` and the Engine read.

A rulebook directory may hold anything a file system can: a symlink that dangles or loops, a FIFO
or a device named `*.yaml`, a huge file, a huge tree. None of these may raise or hang:

* the walk never follows a symlinked directory (no loops) and stops after MAX_FILES files (E113);
* every file is `stat`-ed before it is opened: a dangling or looping symlink, or one that cannot be
  read, is E108; anything but a regular file (FIFO, socket, device) is E109 and is never opened —
  opening a FIFO for reading would wait for a writer forever;
* a file over MAX_FILE_BYTES is E112 and is not read; what is read is read with O_NONBLOCK and
  checked again on the open descriptor, so a file swapped for a FIFO in between cannot block either.

Problems are `FileProblem`s (code, message, suggestion): the caller knows how to show the path.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Callable, Optional

MAX_FILES = 1_000               # YAML files in one rulebook (the shipped one has 31)
MAX_ENTRIES = 100_000           # files and folders of any kind looked at while walking a rulebook
MAX_FILE_BYTES = 5 * 1024 * 1024  # one YAML file (the largest shipped file is 165 KB)
SUFFIXES = (".yaml", ".yml")


class FileProblem(Exception):
    """Why a file of a rulebook cannot be read: a stable code (E108 / E109 / E112 / E113) and words for legal staff."""

    def __init__(self, code: str, message: str, suggestion: Optional[str] = None):
        super().__init__(message)
        self.code, self.message, self.suggestion = code, message, suggestion


def yaml_files(root: Path, on_problem: Optional[Callable[[Path, FileProblem], None]] = None,
               limit: int = MAX_FILES) -> list[Path]:
    """The `*.yaml` / `*.yml` files under `root`, sorted by relative path, hidden files and folders
    skipped, symlinked folders not followed. At most `limit + 1` are returned: more than `limit` means
    the tree is too large (the caller reports E113). A folder that cannot be listed is passed to
    `on_problem` (E108); so is a walk that met more than MAX_ENTRIES files and folders (E113), which stops it."""
    found: list[Path] = []

    def unreadable(error: OSError):
        if on_problem:
            on_problem(Path(error.filename or root), FileProblem(
                "E108", f"无法读取目录：{error.strerror}", "检查该目录的权限。"))

    seen = 0
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        seen += len(dirnames) + len(filenames)
        if seen > MAX_ENTRIES:  # a rulebook pointed at a huge tree (/, a home folder): stop walking
            if on_problem:
                on_problem(Path(dirpath), FileProblem(
                    "E113", f"目录中的文件和文件夹过多（超过 {MAX_ENTRIES} 个），其余未读取",
                    "检查是否把规则库指向了错误的目录。"))
            break
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(SUFFIXES) and not name.startswith("."):
                found.append(Path(dirpath) / name)
                if len(found) > limit:
                    return sorted(found, key=lambda p: p.relative_to(root).as_posix())
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def too_many_files(limit: int = MAX_FILES) -> FileProblem:
    return FileProblem("E113", f"规则库中的 YAML 文件过多（超过 {limit} 个）：从这个文件起未读取",
                       "检查是否把规则库指向了错误的目录；规则库目录只应包含规则文件、组织数据和测试。")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "命名管道 FIFO"
    if stat.S_ISSOCK(mode):
        return "套接字"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "设备文件"
    if stat.S_ISDIR(mode):
        return "目录"
    return "特殊文件"


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The content of one regular file of at most `limit` bytes; raises FileProblem otherwise. Never
    blocks: a FIFO or device is refused before it is opened."""
    try:
        info = os.stat(path)  # follows symlinks: what would be read
    except OSError as exc:
        raise _stat_problem(path, exc) from None
    _check_regular(info, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _stat_problem(path, exc) from None
    try:
        _check_regular(os.fstat(fd), limit)  # the file opened is the file checked
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise FileProblem("E108", f"无法读取文件：{exc.strerror}", "检查该文件的权限。") from None
    finally:
        os.close(fd)
    if size > limit:  # grew while being read
        raise _too_large(size, limit)
    return b"".join(chunks)


def _check_regular(info: os.stat_result, limit: int):
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem("E109", f"不是普通文件（{_kind(info.st_mode)}），未读取",
                          "规则库中名为 *.yaml 的只能是普通文件；删除它或改名。")
    if info.st_size > limit:
        raise _too_large(info.st_size, limit)


def _too_large(size: int, limit: int) -> FileProblem:
    return FileProblem("E112", f"文件过大（{size} 字节，上限 {limit} 字节），未读取",
                       "把内容拆成几个文件；规则文件不应有这么大。")


def _stat_problem(path: Path, exc: OSError) -> FileProblem:
    if exc.errno == errno.ELOOP:
        return FileProblem("E108", "符号链接循环（链接最终指向它自己）", "删除该符号链接，或让它指向一个真实的文件。")
    if exc.errno in (errno.ENOENT, errno.ENOTDIR) and os.path.islink(path):
        return FileProblem("E108", f"符号链接指向的文件不存在：{os.readlink(path)}",
                           "删除该符号链接，或让它指向一个存在的文件。")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return FileProblem("E108", "无法读取文件：没有权限", "检查该文件的权限。")
    return FileProblem("E108", f"无法读取文件：{exc.strerror or exc}", None)
