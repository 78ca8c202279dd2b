"""The compiled-rulebook cache: a loaded rulebook (and its diagnostics) kept on disk, so that starting a process
does not parse, validate and compile the same YAML again (≈ 0.3–0.5 s → ≈ 0.03 s for the shipped rulebook).

An entry is found by a key over everything the load reads and everything that shapes its result: every file
under the rulebook directory (path, bytes), how the directory is shown in diagnostics, the ecorules source code
and the versions of Python and of the libraries whose objects are stored. A changed byte anywhere is another
key, so an entry is never stale; nothing is ever invalidated, old entries are pruned (the newest
`KEEP` are kept). Entries are written to a temporary file and renamed into place (atomic: concurrent writers
and readers see a whole entry or none); a damaged or unreadable entry counts as absent.

Where: `$ECORULES_CACHE_DIR`, else the user cache (`$XDG_CACHE_HOME/ecorules` or `~/.cache/ecorules`;
`~/Library/Caches/ecorules` on macOS, `%LOCALAPPDATA%\\ecorules\\cache` on Windows). `ECORULES_CACHE_DIR=off`
(or an empty value) turns it off. A rulebook with symlinks, special files, files outside the directory or more
than `MAX_FILES` files and folders / `MAX_BYTES` bytes is never cached (it is loaded as before). Like any pickle, an
entry is code: the folder is made with mode 0700, and one that another user owns or can write to is not used.
"""
from __future__ import annotations

import functools
import hashlib
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import Callable, Optional

FORMAT = b"ecorules-rulebook-cache-1"
KEEP = 16                   # entries kept; older ones are removed when a new one is written
MAX_FILES = 2_000           # files and folders: a larger tree is not a rulebook worth caching (or hashing)
MAX_BYTES = 32 * 1024 * 1024  # the shipped rulebook, statute texts included, is 1.5 MB


def cache_dir() -> Optional[Path]:
    """The cache directory in use, or None when caching is off."""
    configured = os.environ.get("ECORULES_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "no") else Path(configured)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return Path(base) / "ecorules" / "cache" if base else None
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "ecorules"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ecorules"


def remembered(root: Path, display_root: str, load: Callable[[], tuple],
               keep: Callable[[tuple], bool] = lambda result: True) -> tuple:
    """`load()` for the rulebook at `root`, from the cache when an entry has the same key; a fresh result is
    stored when `keep(result)` says it may be (e.g. it read no file outside `root`). Never raises for the cache's
    sake: any problem with the cache means loading as if there were none."""
    directory = cache_dir()
    key = _key(root, display_root) if directory is not None and _private(directory) else None
    if key is None:
        return load()
    entry = directory / f"{key}.pickle"
    found = _read(entry, key)
    if found is not None:
        return found
    result = load()
    if keep(result):
        _write(directory, entry, key, result)
    return result


def _private(directory: Path) -> bool:
    """Entries are pickles, i.e. code: use a folder only if it is the user's own and nobody else can write to it
    (a folder not made yet is made so)."""
    try:
        info = directory.stat()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if not hasattr(os, "getuid"):
        return True  # Windows: the user's own profile folder
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


# ---------------------------------------------------------------- the key
def _key(root: Path, display_root: str) -> Optional[str]:
    digest = hashlib.sha256(FORMAT)
    for part in (_code_fingerprint(), str(root.resolve()), display_root):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    seen = 0
    total = 0
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        seen += len(dirnames) + len(filenames)
        if seen > MAX_FILES:
            return None  # a huge tree costs a walk of its first folders, no more
        for name in sorted(dirnames):
            if os.path.islink(os.path.join(directory, name)):
                return None  # a symlinked folder: its target could change under the same names
        for name in sorted(filenames):
            path = os.path.join(directory, name)
            try:
                info = os.lstat(path)
            except OSError:
                return None
            if not stat.S_ISREG(info.st_mode):
                return None  # symlink, FIFO, device: never opened here, and never cached
            total += info.st_size
            if total > MAX_BYTES:
                return None  # checked before reading
            try:
                with open(path, "rb") as handle:
                    content = handle.read(MAX_BYTES + 1)
            except OSError:
                return None
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            digest.update(relative.encode("utf-8", "surrogatepass") + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """The ecorules sources and the versions of what a stored rulebook is made of (constant in a process)."""
    import networkx
    import pydantic
    import pydantic_core
    import yaml

    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    versions = (sys.version, pydantic.VERSION, pydantic_core.__version__, networkx.__version__, yaml.__version__,
                str(pickle.HIGHEST_PROTOCOL))
    digest.update("|".join(versions).encode())
    return digest.hexdigest()


# ---------------------------------------------------------------- reading and writing entries
def _read(entry: Path, key: str) -> Optional[tuple]:
    try:
        with open(entry, "rb") as handle:
            stored = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception:  # damaged, truncated, written by an incompatible version: absent
        return None
    if not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == FORMAT and stored[1] == key):
        return None
    return stored[2]


def _write(directory: Path, entry: Path, key: str, result: tuple) -> None:
    try:
        payload = pickle.dumps((FORMAT, key, result), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # something in this rulebook cannot be stored: it is simply not cached
        return
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(prefix=f".{key[:16]}-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(payload)
            os.replace(temporary, entry)  # atomic: readers see the old entry, the new one, or none
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise
        _prune(directory)
    except OSError:
        return  # a read-only or full disk: go on without the cache


def _prune(directory: Path) -> None:
    entries = []
    for path in directory.glob("*.pickle"):
        try:
            entries.append((path.stat().st_mtime, path))
        except OSError:
            continue
    for _, path in sorted(entries, reverse=True)[KEEP:]:
        try:
            path.unlink()
        except OSError:
            pass
