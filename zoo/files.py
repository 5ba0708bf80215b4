"""Reading and writing files safely: atomic writes (a reader never sees half a file) and input files that are
regular files (never a device, a FIFO or a directory, which could make a reader wait or read forever)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from .errors import ZooError


def atomic_write(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling and a rename: the file is either the old one or the
    whole new one, even if the process dies half way.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = atomic_write(p, "hello")
    >>> p.read_text(), sorted(x.name for x in p.parent.iterdir())
    ('hello', ['a.txt'])
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ZooError(f"cannot write {path}: {e.strerror or e}.") from None
    return path


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """:func:`atomic_write` of ``obj`` as indented JSON."""
    return atomic_write(path, json.dumps(obj, indent=2, default=str) + "\n")


def regular_file(path: str | os.PathLike, error: type[ZooError] = ZooError) -> Path:
    """``path`` if it is an existing regular file, else ``error`` with one line saying what it is instead.

    >>> regular_file("/dev/null")
    Traceback (most recent call last):
    ...
    zoo.errors.ZooError: /dev/null: not a regular file (a character device); pass a data file.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise error(f"{path}: file not found.") from None
    except OSError as e:
        raise error(f"{path}: cannot read it ({e.strerror}).") from None
    if stat.S_ISREG(mode):
        return path
    kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else
            "a character device" if stat.S_ISCHR(mode) else "a block device" if stat.S_ISBLK(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "not a file")
    raise error(f"{path}: not a regular file ({kind}); pass a data file.")


__all__ = ["atomic_write", "atomic_write_json", "regular_file"]
