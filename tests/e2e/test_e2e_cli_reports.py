"""What each command says about each file, in the words and codes an operator and a log shipper
need: a line per file, --json outcomes, the same exit codes for the same outcome, options after
the command name, plain unwrapped output in a pipe."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from e2e_support import SAMPLES, prepare_workdir, run_gateway


def _outcomes(report: dict[str, object]) -> dict[str, dict[str, object]]:
    outcomes = report["outcomes"]
    assert isinstance(outcomes, list)
    return {o["file"]: o for o in outcomes}


def test_run_once_json_lists_every_file_with_its_outcome_and_codes(tmp_path: Path) -> None:
    prepare_workdir(tmp_path)
    done = run_gateway("run", "--once", "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # the samples hold refused documents and a truncated file
    outcomes = _outcomes(json.loads(done.stdout))
    assert set(outcomes) == {
        "acme_bordereau_20250310.csv",
        "acme_F-1010.xml",
        "acme_AV-0011.xml",
        "acme_truncated_F-1012.xml",
        "bravo_B-2001.xml",
        "bravo_batch_20250310.csv",
    }
    truncated = outcomes["acme_truncated_F-1012.xml"]
    assert truncated["outcome"] == "refused" and truncated["codes"], truncated
    assert all(isinstance(o["envelope_id"], int) for o in outcomes.values())
    csv_batch = outcomes["acme_bordereau_20250310.csv"]
    assert (csv_batch["outcome"], csv_batch["accepted_documents"], csv_batch["rejected_documents"]) == (
        "assigned",
        4,
        4,
    )
    # One INFO line when a file is received and one with its outcome, on stderr.
    for name in outcomes:
        lines = [line for line in done.stderr.splitlines() if name in line]
        assert any("received as envelope" in line for line in lines), (name, done.stderr)
        assert any(f": {outcomes[name]['outcome']}" in line for line in lines), (name, done.stderr)
    assert "maximum number of running instances" not in done.stderr


def test_quiet_and_json_logs(tmp_path: Path) -> None:
    prepare_workdir(tmp_path)
    quiet = run_gateway("run", "--once", "-q", cwd=tmp_path)
    assert quiet.returncode == 1
    assert " INFO " not in quiet.stderr, quiet.stderr

    (tmp_path / "gateway.toml").rename(tmp_path / "other.toml")
    prepare_workdir(tmp_path / "second")
    logged = run_gateway("run", "--once", "--log-json", "--config", "second/gateway.toml", cwd=tmp_path)
    assert logged.returncode == 1, logged.stderr
    records = [json.loads(line) for line in logged.stderr.splitlines() if line.strip()]
    decided = [r for r in records if r.get("outcome")]
    assert {r["file"] for r in decided} >= {"acme_F-1010.xml", "acme_truncated_F-1012.xml"}
    assert all({"time", "level", "logger", "message", "envelope", "codes"} <= set(r) for r in decided)


def test_ingest_and_run_once_give_the_same_exit_code_for_the_same_outcome(tmp_path: Path) -> None:
    refused = SAMPLES / "batches" / "acme" / "acme_truncated_F-1012.xml"
    assigned = SAMPLES / "batches" / "acme" / "acme_F-1010.xml"
    for name, source, expected in (("refused", refused, 1), ("assigned", assigned, 0)):
        by_ingest = tmp_path / f"ingest-{name}"
        by_ingest.mkdir()
        shutil.copyfile(SAMPLES / "gateway.toml", by_ingest / "gateway.toml")
        ingested = run_gateway("ingest", str(source), "--client", "acme", cwd=by_ingest)

        by_run = tmp_path / f"run-{name}"
        by_run.mkdir()
        shutil.copyfile(SAMPLES / "gateway.toml", by_run / "gateway.toml")
        inbox = by_run / "clients" / "acme" / "inbox"
        inbox.mkdir(parents=True)
        shutil.copyfile(source, inbox / source.name)
        ran = run_gateway("run", "--once", cwd=by_run)
        assert (ingested.returncode, ran.returncode) == (expected, expected), (ingested.stderr, ran.stderr)


def test_common_options_are_accepted_after_the_command_name(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    prepare_workdir(workdir)
    assert run_gateway("run", "--once", cwd=workdir).returncode == 1
    before = run_gateway("--config", "work/gateway.toml", "status", "--json", cwd=tmp_path)
    after = run_gateway("status", "--json", "--config", "work/gateway.toml", cwd=tmp_path)
    short = run_gateway("status", "-c", "work/gateway.toml", "--json", cwd=tmp_path)
    assert before.returncode == after.returncode == short.returncode == 0, (before.stderr, after.stderr)
    assert json.loads(before.stdout) == json.loads(after.stdout) == json.loads(short.stdout)
    dated = run_gateway(
        "validate", str(SAMPLES / "batches" / "bravo" / "bravo_B-2001.xml"), "--as-of", "x", cwd=tmp_path
    )
    assert dated.returncode == 2 and "--as-of" in dated.stderr


def test_output_in_a_pipe_is_plain_and_never_wrapped(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "config-that-is-checked"
    deep.mkdir(parents=True)
    shutil.copyfile(SAMPLES / "gateway.toml", deep / "gateway.toml")
    done = run_gateway("config", "check", "--config", str(deep / "gateway.toml"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{deep / 'gateway.toml'}: OK\n"
    assert "\x1b[" not in done.stdout


def test_validate_format_is_a_fixed_choice(tmp_path: Path) -> None:
    done = run_gateway(
        "validate", "--format", "pdf", str(SAMPLES / "batches" / "bravo" / "bravo_B-2001.xml"), cwd=tmp_path
    )
    assert done.returncode == 2
    assert "'auto'" in done.stderr and "'csv-batch'" in done.stderr


def test_every_file_in_a_real_inbox_is_answered_whatever_its_name(tmp_path: Path) -> None:
    shutil.copyfile(SAMPLES / "gateway.toml", tmp_path / "gateway.toml")
    inbox = tmp_path / "clients" / "acme" / "inbox"
    inbox.mkdir(parents=True)
    batch = (SAMPLES / "batches" / "acme" / "acme_F-1010.xml").read_bytes()
    names = ["Relevé d'avoirs.xml", "Facture N°123.xml", "export&co [1].xml", "evil\x1b[31m.xml"]
    for name in names:
        (inbox / name).write_bytes(batch)
    done = run_gateway("run", "--once", "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    outcomes = _outcomes(json.loads(done.stdout))
    assert set(outcomes) == {*names[:3], repr(names[3])}
    first, *duplicates = (outcomes[n] for n in names[:3])  # one file's bytes sent three times
    assert first["outcome"] == "assigned"
    assert [d["codes"] for d in duplicates] == [["GW-DUPLICATE-FILE"]] * 2
    assert outcomes[repr(names[3])]["codes"] == ["GW-FILE-NAME-UNSAFE"]
    assert "\x1b" not in done.stdout + done.stderr
    acks = sorted(p.name for p in (tmp_path / "clients" / "acme" / "out").glob("ACK_*.json"))
    assert len(acks) == 4, acks
    assert list(inbox.iterdir()) == []
    error = sorted(p.name for p in (tmp_path / "clients" / "acme" / "error").iterdir())
    assert any(n.startswith("refused-name-") and not n.endswith(".json") for n in error), error
    status = json.loads(run_gateway("status", "--json", cwd=tmp_path).stdout)
    assert sum(e["count"] for e in status["envelopes"]) == 4
