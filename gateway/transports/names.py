"""File names that are safe to use under a channel root, and the names files are kept under.

Names come from outside: a client's upload, an SFTP listing (a hostile server
can answer ``../../.bashrc``, the CVE-2019-6111 class), or a writer's rule
built from a client's data. A name we use must stay a single entry inside the
folder it is meant for, must not hide (dot files), must not carry terminal or
log escapes, and must survive a copy to a Windows share: :func:`safe_name`.

A client's name need not be safe to be taken. French ERPs write
``Relevé d'avoirs.csv``, ``Facture N°123.xml`` or ``export&co [1].csv``: such
a file is kept under a stand-in (:func:`stored_name`), and the ledger, the
acknowledgement and every report show the name as it was sent. Only a name
that cannot be taken at all (:func:`name_refusal`: control or invisible
characters, a path separator, ``..``, too long) is refused; the file is still
recorded and answered, kept under :func:`quarantine_name`. Never silently
rewriting a name *into another client name* is why a stand-in carries a hash
of the original: two uploads never collide.
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


_REFUSED_STAND_IN = re.compile(r"refused-name-[0-9a-f]{16}")

#: Unicode categories that make a name untakeable: controls, invisible formatting (such as
#: U+202E RIGHT-TO-LEFT OVERRIDE), surrogates (undecodable bytes), private use, unassigned,
#: and line or paragraph separators. Spaces of every kind (Zs) are fine.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def name_refusal(raw: str) -> str | None:
    """Why a file cannot be taken under this name at all, in words for the client; ``None`` when
    it can (under itself or a stand-in).

    >>> name_refusal("Relevé d'avoirs N°3 [copie] & co.csv") is None
    True
    >>> name_refusal("facture\u202egpj.exe")
    'the name holds a control or invisible character (U+202E)'
    >>> name_refusal("a..b.csv")
    "the name holds '..', which reads as a reference to a parent folder"
    """
    if not raw:
        return "the name is empty"
    hidden = next((char for char in raw if unicodedata.category(char) in _REFUSED_CATEGORIES), None)
    if hidden is not None:
        return f"the name holds a control or invisible character (U+{ord(hidden):04X})"
    if "/" in raw or "\\" in raw:
        return "the name holds a path separator (/ or \\)"
    if ".." in raw:
        return "the name holds '..', which reads as a reference to a parent folder"
    normal = unicodedata.normalize("NFC", raw)
    if len(normal) > MAX_NAME_CHARS or len(normal.encode("utf-8")) > MAX_NAME_BYTES:
        return f"the name is longer than {MAX_NAME_CHARS} characters ({MAX_NAME_BYTES} bytes in UTF-8)"
    return None


def stored_name(raw: str) -> str:
    """The name a file is kept under in ``work/``, ``archive/`` and ``error/``: the name itself when
    it is safe (NFC-normalised), else a stand-in made of its safe characters and a hash of the whole
    name; :func:`quarantine_name` when the name cannot be taken at all.

    >>> stored_name("Facture 2025-001.xml")
    'Facture 2025-001.xml'
    >>> stored_name("Facture N°123.xml")
    'Facture N_123-46578e01.xml'
    >>> stored_name("CON.csv")
    'CON-8ce57815.csv'
    >>> stored_name("evil\x1b[31m.csv").startswith("refused-name-")
    True
    """
    if name_refusal(raw) is not None:
        return quarantine_name(raw)
    normal = safe_name(raw)
    if normal is not None and _REFUSED_STAND_IN.fullmatch(normal) is None:
        return normal
    return _stand_in(unicodedata.normalize("NFC", raw))


def sent_name(raw: str, kept: str) -> str | None:
    """What an :class:`Entry` carries as its ``sent_name``: the raw name when the file is kept
    under a stand-in, ``None`` when it is kept under its own name (NFC-normalised: the same name
    to a person, whichever way the accents were typed)."""
    return None if kept == unicodedata.normalize("NFC", raw) else raw


def is_refused_stand_in(name: str) -> bool:
    """Whether ``name`` is the stand-in of a name that could not be taken (see :func:`stored_name`)."""
    return _REFUSED_STAND_IN.fullmatch(name) is not None


def _stand_in(normal: str) -> str:
    digest = hashlib.sha256(normal.encode("utf-8")).hexdigest()[:8]
    stem, dot, extension = normal.rpartition(".")
    if not dot or not stem:
        stem, extension = normal, ""

    def cleaned(part: str) -> str:
        return "".join(
            " " if unicodedata.category(char) == "Zs" else (char if _allowed_char(char) else "_")
            for char in part
        ).strip(" ")

    extension = cleaned(extension)[:16].replace(" ", "_")
    suffix = f"-{digest}" + (f".{extension}" if extension else "")
    stem = cleaned(stem).lstrip(".-") or "file"
    stem = stem[: MAX_NAME_CHARS - len(suffix)].rstrip(" .")
    candidate = f"{stem}{suffix}"
    while len(candidate.encode("utf-8")) > MAX_NAME_BYTES:  # accented letters take two bytes each
        stem = stem[:-1].rstrip(" .")
        candidate = f"{stem}{suffix}"
    if safe_name(candidate) != candidate:
        return f"renamed-{hashlib.sha256(normal.encode('utf-8')).hexdigest()[:16]}"
    return candidate


def display_name(raw: str) -> str:
    """``raw`` as it is when every character prints, else its ``repr``: no escape sequence
    from a file name ever reaches a terminal or a log.

    >>> display_name(".facture.csv")
    '.facture.csv'
    >>> display_name("evil\\x1b[31m.csv")
    "'evil\\\\x1b[31m.csv'"
    """
    return raw if raw.isprintable() else repr(raw)
