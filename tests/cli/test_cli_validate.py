"""``gateway validate`` on hostile and broken files: clear codes, no file read, no network, no crash."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main

REPO = Path(__file__).resolve().parents[2]
BATCHES = REPO / "samples" / "demo" / "batches"


def _validate(*args: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(main, ["validate", "--json", *args])
    return result.exit_code, json.loads(result.output) if result.output.strip().startswith("{") else {}


def _codes(report: dict[str, object]) -> list[list[str]]:
    files = report["files"]
    assert isinstance(files, list)
    return [[issue["code"] for issue in f["issues"]] for f in files]


@pytest.fixture
def listener() -> tuple[int, list[bytes]]:
    """A TCP server on 127.0.0.1 that records any connection: a DTD fetch would show here."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            seen.append(conn.recv(1024))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


def test_valid_samples_pass(tmp_path: Path) -> None:
    code, report = _validate(
        str(BATCHES / "acme" / "acme_F-1010.xml"),
        str(BATCHES / "acme" / "acme_AV-0011.xml"),
        str(BATCHES / "bravo" / "bravo_B-2001.xml"),
    )
    assert code == 0, report
    assert [f["format"] for f in report["files"]] == ["ubl", "ubl", "cii"]


def test_malformed_xxe_and_entity_bomb_are_refused(tmp_path: Path, listener: tuple[int, list[bytes]]) -> None:
    port, connections = listener
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER-4711")
    malformed = tmp_path / "malformed.xml"
    malformed.write_bytes((BATCHES / "acme" / "acme_truncated_F-1012.xml").read_bytes())
    xxe = tmp_path / "xxe.xml"
    xxe.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&x;</Invoice>\n'
    )
    bomb = tmp_path / "bomb.xml"
    levels = "".join(f'<!ENTITY e{i} "{("&e" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    bomb.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY e0 "ha">{levels}]>\n<lolz>&e9;</lolz>\n'
    )
    remote = tmp_path / "remote-dtd.xml"
    remote.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE Invoice SYSTEM "http://127.0.0.1:{port}/invoice.dtd">\n'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>\n'
    )

    code, report = _validate(str(malformed), str(xxe), str(bomb), str(remote))

    assert code == 1
    codes = _codes(report)
    assert codes[0] == ["GW-XML-MALFORMED"]
    assert codes[1] == ["GW-XML-DOCTYPE"]
    assert codes[2] == ["GW-FORMAT-UNKNOWN"] or codes[2] == ["GW-XML-DOCTYPE"]
    assert codes[3] == ["GW-XML-DOCTYPE"]
    assert "TOP-SECRET-MARKER-4711" not in json.dumps(report)
    assert connections == []
    for f in report["files"]:
        assert all(issue["message"] for issue in f["issues"])


def test_entity_bomb_disguised_as_an_invoice_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    levels = "".join(f'<!ENTITY e{i} "{("&e" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    bomb.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE Invoice [<!ENTITY e0 "ha">{levels}]>\n'
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&e9;</ID></Invoice>\n'
    )
    code, report = _validate(str(bomb))
    assert code == 1
    assert _codes(report) == [["GW-XML-DOCTYPE"]]


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "nope.xml")])
    assert result.exit_code == 2
    assert "Cannot read" in result.output


def test_csv_row_errors_are_reported_with_their_line(tmp_path: Path) -> None:
    code, report = _validate(str(BATCHES / "acme" / "acme_bordereau_20250310.csv"))
    assert code == 1
    [issues] = [f["issues"] for f in report["files"]]
    located = {(i["code"], i["location"]) for i in issues}
    assert ("GW-CSV-VALUE", "line 9") in located
    assert ("BR-CO-15", "line 7") in located
