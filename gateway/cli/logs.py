"""Log output on stderr: human lines by default, JSON lines for log shippers.

Log lines carry names and values from clients' files, so the human format
escapes control characters (an ESC sequence, a NUL is written escaped, never raw,
to the operator's terminal); the JSON format is escaped by construction.
Fields a log call passes in ``extra`` (``file``, ``envelope``, ``outcome``,
``codes``...) become keys of the JSON line, so a shipper can index them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from gateway.text import escape_controls

#: Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

#: Third-party loggers kept at WARNING unless -vv: their INFO lines are about their own machinery.
_QUIET_LIBRARIES = ("apscheduler", "watchdog", "paramiko", "alembic", "sqlalchemy")


class EscapingFormatter(logging.Formatter):
    """The human format, with control characters escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return "\n".join(escape_controls(line) for line in super().format(record).split("\n"))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _library_noise(record: logging.LogRecord) -> bool:
    """Drop messages that look like failures but are not:

    * watchdog's ERROR when an inbox event arrives while its watcher is being stopped (nothing
      is lost: the periodic scan is the truth);
    * APScheduler's "maximum number of running instances reached" when a scan outlasts the
      interval: the next scan simply starts when this one ends (shown with -vv).
    """
    message = str(record.msg)
    if record.name.startswith("watchdog.") and "called when the thread is inactive" in message:
        return False
    return not (record.name.startswith("apscheduler.") and "maximum number of running instances" in message)


def configure_logging(verbosity: int, as_json: bool) -> None:
    """``verbosity``: -1 quiet (warnings and errors), 0 one line per file and decision (INFO),
    1 debug for the gateway, 2 debug for the libraries too."""
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(EscapingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if verbosity < 2:
        handler.addFilter(_library_noise)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity >= 2 else max(level, logging.WARNING))
