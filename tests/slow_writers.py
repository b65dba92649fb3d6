"""A client's slow writer, as a separate process: copies a file into an inbox line by line.

Importable by name from every test folder (the top conftest puts this folder on ``sys.path``).
The modes are the ways ERPs were seen writing into an inbox:

* ``line-at-a-time`` -- open, append one line, close, pause; again (each close is a
  close-after-write event);
* ``in-place`` -- under the final name, held open, flushed after each line, paused between;
* ``two-bursts`` -- half the lines (closed), one long pause, the rest (appended, closed);
* ``temporary-name`` -- as ``in-place``, under ``.NAME.part``, renamed to ``NAME`` at the end.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MODES = ("line-at-a-time", "in-place", "two-bursts", "temporary-name")

_SCRIPT = r"""
import os, sys, time
source, target, mode, pause, long_pause = sys.argv[1:6]
pause, long_pause = float(pause), float(long_pause)
with open(source, "rb") as handle:
    lines = handle.readlines()
if mode == "line-at-a-time":
    for number, line in enumerate(lines):
        if number:
            time.sleep(pause)
        with open(target, "ab") as out:
            out.write(line)
elif mode in ("in-place", "temporary-name"):
    written = target if mode == "in-place" else os.path.join(
        os.path.dirname(target), "." + os.path.basename(target) + ".part"
    )
    with open(written, "wb") as out:
        for number, line in enumerate(lines):
            if number:
                time.sleep(pause)
            out.write(line)
            out.flush()
    if written != target:
        os.rename(written, target)
elif mode == "two-bursts":
    half = len(lines) // 2
    with open(target, "wb") as out:
        out.writelines(lines[:half])
    time.sleep(long_pause)
    with open(target, "ab") as out:
        out.writelines(lines[half:])
else:
    sys.exit(f"unknown mode {mode}")
"""


def start_writer(
    content: bytes, target: Path, mode: str, *, pause: float, long_pause: float = 0.0
) -> subprocess.Popen[bytes]:
    """Start writing ``content`` into ``target`` the ``mode`` way (see the module docstring);
    ``pause`` between two lines, ``long_pause`` between the two bursts."""
    if mode not in MODES:
        raise ValueError(f"unknown writer mode {mode!r}")
    source = target.parent.parent / f".source-{target.name}"  # beside the inbox, never in it
    source.write_bytes(content)
    return subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(source), str(target), mode, str(pause), str(long_pause)]
    )
