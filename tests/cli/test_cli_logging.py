"""Log lines on stderr: a line per file at the default level, library noise filtered, JSON lines
for log shippers with the file's fields as keys, control characters never raw."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from gateway.cli.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in ("apscheduler", "watchdog", "paramiko", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def _emit(logger: str, level: int, message: str, **extra: object) -> str:
    handler = logging.getLogger().handlers[0]
    record = logging.getLogger(logger).makeRecord(logger, level, __file__, 1, message, (), None, extra=extra)
    if not logging.getLogger(logger).isEnabledFor(level) or not handler.filter(record):
        return ""
    return handler.format(record)


def test_default_level_shows_a_line_per_file_and_hides_the_scheduler_noise() -> None:
    configure_logging(0, as_json=False)
    assert "received as envelope 3" in _emit("gateway.batch", logging.INFO, "x.csv received as envelope 3")
    noise = 'Execution of job "scan" skipped: maximum number of running instances reached (1)'
    assert _emit("apscheduler.scheduler", logging.WARNING, noise) == ""
    assert _emit("apscheduler.scheduler", logging.INFO, "Added job") == ""
    configure_logging(2, as_json=False)
    assert "maximum number" in _emit("apscheduler.scheduler", logging.WARNING, noise)


def test_quiet_keeps_warnings_only() -> None:
    configure_logging(-1, as_json=False)
    assert _emit("gateway.batch", logging.INFO, "x.csv received") == ""
    assert "left in the inbox" in _emit("gateway.batch", logging.WARNING, "x.csv left in the inbox")


def test_json_lines_carry_the_file_fields_and_escape_everything() -> None:
    configure_logging(0, as_json=True)
    line = _emit(
        "gateway.batch",
        logging.INFO,
        "evil\x1b[31m.csv: refused",
        file="evil\x1b[31m.csv",
        envelope=7,
        outcome="refused",
        codes=["GW-FILE-NAME-UNSAFE"],
    )
    assert "\x1b" not in line and "\n" not in line
    record = json.loads(line)
    assert record["file"] == "evil\x1b[31m.csv"
    assert (record["level"], record["envelope"], record["outcome"]) == ("INFO", 7, "refused")
    assert record["codes"] == ["GW-FILE-NAME-UNSAFE"]
    assert record["time"].endswith("+00:00")


def test_human_lines_escape_control_characters() -> None:
    configure_logging(0, as_json=False)
    line = _emit("gateway.batch", logging.INFO, "evil\x1b[31m.csv: refused")
    assert "\x1b" not in line and "\\x1b" in line
