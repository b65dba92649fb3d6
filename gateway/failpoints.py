"""Named crash points, so tests can kill the real process at an exact step.

Setting ``GATEWAY_FAILPOINT=after-assign-commit`` (optionally ``NAME:N`` for
the N-th time the point is reached) makes the process SIGKILL itself there.
The variable is read once, when the process starts (the crash test sets it for
the process it starts). Nothing happens when it is unset, which is always the
case in production; the cost is then one string comparison per call, so points
may sit inside the delivery and archive loops. This is how the crash test
proves that a kill at any step loses nothing and assigns nothing twice.
"""

from __future__ import annotations

import os
import signal

_POINT, _, _COUNT = os.environ.get("GATEWAY_FAILPOINT", "").partition(":")
_hits: dict[str, int] = {}


def failpoint(name: str) -> None:
    if name != _POINT:  # unarmed: _POINT is "" and never a point's name
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(_COUNT or "1"):
        os.kill(os.getpid(), signal.SIGKILL)
