"""Named crash points, so tests can kill the real process at an exact step.

Setting ``GATEWAY_FAILPOINT=after-assign-commit`` (optionally ``NAME:N`` for
the N-th time the point is reached) makes the process SIGKILL itself there.
Nothing happens when the variable is unset, which is always the case in
production; the cost is one dictionary lookup per call. This is how the crash
test proves that a kill at any step loses nothing and assigns nothing twice.
"""

from __future__ import annotations

import os
import signal

_hits: dict[str, int] = {}


def failpoint(name: str) -> None:
    wanted = os.environ.get("GATEWAY_FAILPOINT")
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(count or "1"):
        os.kill(os.getpid(), signal.SIGKILL)
