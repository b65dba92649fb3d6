"""Operating-system failures told in words: what was being done, where, and why.

A full disk, a read-only share or an archive path that someone turned into a
file must not end in a Python traceback: the operator needs the path and the
reason, and the pipeline needs one of its own errors (``TransportError`` or
``DeliveryError``: "the environment failed, the file stays in ``work/`` and is
retried"). :func:`failing_as` does the conversion at each transport step and
keeps the ``OSError`` as the cause for the log.

The OS says ``[Errno 20] Not a directory: '/x/archive/2025/03/10'`` about the
path it was given; the culprit is often an ancestor (``/x/archive/2025`` is a
file). :func:`explain` walks up to name the component at fault.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from gateway.errors import GatewayError

_NOT_A_FOLDER = frozenset({errno.ENOTDIR, errno.EEXIST})
#: About the device, not the path: the caller's "doing" already names the folder.
_DEVICE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG})


def explain(err: OSError) -> str:
    """``PATH: reason`` in words, naming the path component at fault when the OS does not;
    the reason alone for a device failure (full, read-only, I/O error).

    >>> explain(OSError(errno.EACCES, "Permission denied", "/x/out/.a.tmp-1"))
    '/x/out/.a.tmp-1: Permission denied'
    >>> explain(OSError(errno.ENOSPC, "No space left on device", "/x/out/.a.tmp-1"))
    'No space left on device'
    """
    text = err.strerror or str(err)
    paths = [Path(os.fsdecode(p)) for p in (err.filename, err.filename2) if p is not None]
    if not paths or err.errno in _DEVICE_ERRORS:
        return text
    if err.errno in _NOT_A_FOLDER:
        # A parent that is a file first (rename: the source itself is a file, rightly).
        found = [_first_non_folder(p, itself) for itself in (False, True) for p in paths]
        blocker = next(filter(None, found), None)
        if blocker is not None:
            return f"{blocker} is not a folder ({text})"
    if err.errno == errno.ENOENT:
        missing = next(filter(None, (_first_missing(p) for p in paths)), paths[0])
        return f"{missing} does not exist ({text})"
    return f"{paths[0]}: {text}"


@contextlib.contextmanager
def failing_as(error: type[GatewayError], doing: str) -> Iterator[None]:
    """Turn an ``OSError`` raised inside into ``error("<doing>: <explain(err)>")``, chained."""
    try:
        yield
    except OSError as err:
        raise error(f"{doing}: {explain(err)}") from err


def _first_non_folder(path: Path, itself: bool) -> Path | None:
    """The outermost existing ancestor of ``path`` (or ``path`` itself) that is not a folder."""
    for candidate in [*reversed(path.parents), *([path] if itself else [])]:
        if os.path.lexists(candidate) and not candidate.is_dir():
            return candidate
    return None


def _first_missing(path: Path) -> Path | None:
    """The outermost ancestor of ``path`` (or ``path`` itself) that does not exist."""
    for candidate in [*reversed(path.parents), path]:
        if not os.path.lexists(candidate):
            return candidate
    return None
