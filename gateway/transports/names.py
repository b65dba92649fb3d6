"""File names that are safe to use under a channel root.

Names come from outside: a client's upload, an SFTP listing (a hostile server
can answer ``../../.bashrc``, the CVE-2019-6111 class), or a writer's rule
built from a client's data. A name we use must stay a single entry inside the
folder it is meant for, must not hide (dot files), must not carry terminal or
log escapes, and must survive a copy to a Windows share.

:func:`safe_name` refuses rather than repairs: silently rewriting ``../x`` into
``x`` would let two different uploads collide, and the operator should see the
file as it was sent. The one transform is Unicode NFC normalisation, so that
``é`` typed on a Mac (``e`` + combining accent, NFD) and ``é`` typed elsewhere
are the same name.

A refused inbound file is not dropped: the transport parks it in ``error/``
under :func:`quarantine_name` with the original name (``repr``) in its reason.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

from gateway.errors import TransportError

MAX_NAME_CHARS = 200
# Room for ".NNN" clash suffixes and ".reason.json" below the 255-byte NAME_MAX of most file systems.
MAX_NAME_BYTES = 230

_ALLOWED_ASCII = re.compile(r"[A-Za-z0-9._ ()+,@=-]+")
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{n}" for n in range(10)}
    | {f"LPT{n}" for n in range(10)}
)


def _allowed_char(char: str) -> bool:
    if char.isascii():
        return _ALLOWED_ASCII.fullmatch(char) is not None
    # Accented Latin letters (é, ß, œ, ñ ...) only: no look-alike scripts, no marks,
    # no format characters such as U+202E RIGHT-TO-LEFT OVERRIDE.
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN ")


@functools.lru_cache(maxsize=65_536)  # pure; asked several times per file per cycle
def safe_name(name: str) -> str | None:
    """The name itself (NFC-normalised) when it is safe as one file name, else ``None``.

    Refused: empty; anything with a path separator (``/`` or ``\\``), NUL or a
    control character; a name starting with ``.`` (hidden, ``.``, ``..``) or
    ``-`` (read as an option by the tools operators use); leading or trailing
    spaces and a trailing ``.`` (Windows drops them, so two names would meet);
    more than 200 characters or 230 UTF-8 bytes; Windows device names
    (``CON``, ``nul.txt``, ``COM1.csv`` ...); any character outside
    ``A-Z a-z 0-9 . _ space - ( ) + , @ =`` and accented Latin letters.

    >>> safe_name("Facture 2025-001 (copie).pdf")
    'Facture 2025-001 (copie).pdf'
    >>> safe_name("../../.ssh/authorized_keys") is None
    True
    >>> safe_name("CON.csv") is None
    True
    """
    if not name:
        return None
    normal = unicodedata.normalize("NFC", name)
    if len(normal) > MAX_NAME_CHARS:
        return None
    try:
        encoded = normal.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: undecodable bytes in a POSIX listing
        return None
    if len(encoded) > MAX_NAME_BYTES:
        return None
    if normal[0] in ". -" or normal[-1] in ". ":
        return None
    if not all(_allowed_char(char) for char in normal):
        return None
    if normal.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        return None
    return normal


def checked_name(name: str) -> str:
    """``name`` itself, or :class:`TransportError` when it could leave the channel's folders: an
    entry handed back to a transport may have been made by hand, not by its scan."""
    if safe_name(name) != name:
        raise TransportError(f"unsafe entry name {name!r}")
    return name


def quarantine_name(raw: str) -> str:
    """A safe, stable stand-in for a refused name (same raw name, same stand-in).

    >>> quarantine_name("../etc/passwd") == quarantine_name("../etc/passwd") != quarantine_name("x/y")
    True
    """
    digest = hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"refused-name-{digest}"


def display_name(raw: str) -> str:
    """``raw`` as it is when every character prints, else its ``repr``: no escape sequence
    from a file name ever reaches a terminal or a log.

    >>> display_name(".facture.csv")
    '.facture.csv'
    >>> display_name("evil\\x1b[31m.csv")
    "'evil\\\\x1b[31m.csv'"
    """
    return raw if raw.isprintable() else repr(raw)
