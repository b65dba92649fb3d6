"""Helpers shared by the end-to-end tests (imported by name: pytest runs in importlib mode)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ledger_dump import dump_files, dump_ledger

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "demo"

__all__ = ["REPO", "SAMPLES", "dump_files", "dump_ledger", "prepare_workdir", "run_gateway"]


def run_gateway(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (``python -m gateway``), never a failpoint unless asked."""
    full_env = {k: v for k, v in os.environ.items() if k != "GATEWAY_FAILPOINT"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def prepare_workdir(workdir: Path, batch_size: int | None = None, *, schematron: bool = True) -> Path:
    """The demo configuration and batches in ``workdir``; optionally smaller batches, and without
    the official Schematron (for tests about crashes and concurrency, not about validation: compiling
    the rule sets costs each gateway process about 3 s)."""
    from gateway.demo import prepare_demo

    config = prepare_demo(workdir, SAMPLES)
    text = config.read_text(encoding="utf-8")
    if batch_size is not None:
        text = text.replace("batch_size = 200", f"batch_size = {batch_size}")
    if not schematron:
        text = text.replace('readiness = "rename"\n', 'readiness = "rename"\nschematron = false\n')
        assert "schematron = false" in text
    config.write_text(text, encoding="utf-8")
    return config
