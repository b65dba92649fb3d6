"""``gateway replay`` and ``gateway show``: a file refused because a debtor was not set up yet is
taken again once the factor has set it up, on the operator's recorded word, without the client
changing a byte and without anything assigned twice; ``show`` tells each file's whole story."""

from __future__ import annotations

import json
from pathlib import Path

from e2e_support import prepare_workdir, run_gateway

OMEGA = """
[[clients.acme.debtors]]
id = "OMEGA"
name = "OMEGA SAS"
siren = "912345675"
approval_limit = "50000.00"
"""


def _ack_lines(workdir: Path, envelope_id: int) -> dict[str, tuple[str, list[str]]]:
    ack_path = next((workdir / "clients" / "acme" / "out").glob(f"ACK_acme_{envelope_id:08d}_*.json"))
    ack = json.loads(ack_path.read_text(encoding="utf-8"))
    return {line["number"]: (line["verdict"], [i["code"] for i in line["issues"]]) for line in ack["lines"]}


def test_replay_after_the_debtor_is_set_up_assigns_what_was_missing_and_nothing_twice(tmp_path: Path) -> None:
    config = prepare_workdir(tmp_path)
    first = run_gateway("run", "--once", "--json", cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    assert _ack_lines(tmp_path, 1)["F-1006"] == ("rejected", ["GW-DEBTOR-UNKNOWN"])

    # Sent again by the client as it is: the same bytes are refused as a duplicate file.
    batch = next((tmp_path / "clients" / "acme" / "archive").rglob("acme_bordereau_20250310.csv"))
    again = run_gateway("ingest", str(batch), "--client", "acme", "--json", cwd=tmp_path)
    assert json.loads(again.stdout)["outcomes"][0]["codes"] == ["GW-DUPLICATE-FILE"]

    no_reason = run_gateway("replay", "1", cwd=tmp_path)
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr

    with config.open("a", encoding="utf-8") as handle:
        handle.write(OMEGA)
    replayed = run_gateway("replay", "1", "--reason", "debtor OMEGA set up", "--json", cwd=tmp_path)
    assert replayed.returncode == 1, replayed.stderr  # other lines are still refused, for their own reasons
    report = json.loads(replayed.stdout)
    assert report["from"] == "archive/2025/03/10/acme_bordereau_20250310.csv"
    (outcome,) = report["cycle"]["outcomes"]
    assert outcome["outcome"] == "assigned" and outcome["accepted_documents"] == 1
    lines = _ack_lines(tmp_path, outcome["envelope_id"])
    assert lines["F-1006"] == ("accepted", [])
    for number in ("AV-0007", "F-1001", "F-1002", "F-1003"):  # assigned the first time
        assert lines[number] == ("rejected", ["GW-DUPLICATE-INVOICE"]), number
    assert lines["F-1004"] == ("rejected", ["GW-DUE-DATE-PAST"])

    status = json.loads(run_gateway("status", "--json", cwd=tmp_path).stdout)
    omega = next(a for a in status["approvals"] if a["debtor_id"] == "OMEGA")
    assert omega["outstanding"] == "960.00"

    shown = run_gateway("show", "1", "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    (story,) = json.loads(shown.stdout)["envelopes"]
    assert [e["kind"] for e in story["events"]] == ["replay", "replay-processed"]
    assert story["events"][0]["detail"]["reason"] == "debtor OMEGA set up"
    assert story["events"][1]["detail"]["replayed_as"] == outcome["envelope_id"]

    busy = run_gateway("replay", "99", "--reason", "x", cwd=tmp_path)
    assert busy.returncode == 2 and "no envelope 99" in busy.stderr


def test_show_tells_a_file_s_whole_story(tmp_path: Path) -> None:
    prepare_workdir(tmp_path)
    assert run_gateway("run", "--once", cwd=tmp_path).returncode == 1

    by_name = run_gateway("show", "acme_truncated_F-1012.xml", "--json", cwd=tmp_path)
    assert by_name.returncode == 0, by_name.stderr
    (story,) = json.loads(by_name.stdout)["envelopes"]
    assert story["state"] == "rejected"
    assert [i["code"] for i in story["file_issues"]] == ["GW-XML-MALFORMED"]
    assert story["now_at"] == [{"area": "error", "location": "error/acme_truncated_F-1012.xml"}]
    assert {d["name"].rsplit(".", 1)[1] for d in story["deliveries"]} == {"csv", "json", "xlsx"}
    assert story["received_at"] and story["finalized_at"]

    batch = next((tmp_path / "clients" / "acme" / "archive").rglob("acme_bordereau_20250310.csv"))
    by_path = run_gateway("show", str(batch), cwd=tmp_path)
    assert by_path.returncode == 0, by_path.stderr
    text = by_path.stdout
    assert "Envelope 1: acme_bordereau_20250310.csv" in text
    assert "F-1006 960.00 EUR: rejected (GW-DEBTOR-UNKNOWN" in text
    assert "remittance  n°1" in text
    assert "now at      archive/2025/03/10/acme_bordereau_20250310.csv" in text
    assert "REM_acme_000001.json" in text

    unknown = run_gateway("show", "nothing.csv", cwd=tmp_path)
    assert unknown.returncode == 2 and "knows no file" in unknown.stderr
