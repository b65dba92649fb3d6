"""``pip install .`` (a wheel, not the checkout) gives a working ``gateway demo`` and ``gateway explain``.

The wheel is built from a copy of the checkout, installed with ``pip install --target`` into a
folder of its own, and run from a directory outside the checkout: the samples and the issue-code
document must come from the installed package, never from the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
from e2e_support import REPO

pytestmark = pytest.mark.slow

#: Not part of a build: environments, caches and earlier build output.
NOT_SOURCES = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "demo-work"
)
#: ``project.license`` as an SPDX string (PEP 639) needs setuptools 77.
SETUPTOOLS_FOR_OFFLINE_BUILD = 77
GOLDEN = REPO / "samples" / "demo" / "expected"


def _pip(*args: str, cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def _build_wheel(tmp_path: Path) -> Path:
    """A wheel of the checkout as it is now (a copy, so the checkout gets no build/ folder)."""
    source = tmp_path / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=NOT_SOURCES)
    dist = tmp_path / "dist"
    isolation: tuple[str, ...] = ()
    if int(version("setuptools").split(".")[0]) >= SETUPTOOLS_FOR_OFFLINE_BUILD:
        isolation = ("--no-build-isolation",)  # offline: the setuptools of this environment builds it
    _pip("wheel", "--quiet", "--no-deps", *isolation, "-w", str(dist), ".", cwd=source)
    (wheel,) = dist.glob("factoring_gateway-*.whl")
    return wheel


def _checkout_packages() -> set[str]:
    return {
        init.parent.relative_to(REPO).as_posix()
        for init in (REPO / "gateway").rglob("__init__.py")
        if "_data" not in init.parts
    }


def test_an_installed_wheel_runs_the_demo_and_explains_codes(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    strays = [n for n in names if not n.startswith(("gateway/", "factoring_gateway-"))]
    assert strays == [], f"the wheel holds more than the package: {strays[:10]}"
    assert not any("tests/" in n or ".venv" in n for n in names)
    shipped = {
        "gateway/_data/docs/error-codes.md",
        "gateway/_data/samples/demo/gateway.toml",
        "gateway/_data/samples/demo/batches/acme/acme_F-1010.xml",
        "gateway/_data/schemas/remittance.schema.json",
        "gateway/_data/schemas/README.md",
        "gateway/ledger/migrations/env.py",
    }
    assert shipped - set(names) == set()
    missing = {p for p in _checkout_packages() if f"{p}/__init__.py" not in names}
    assert missing == set(), f"packages of the checkout missing from the wheel: {sorted(missing)}"

    target = tmp_path / "installed"
    _pip("install", "--quiet", "--no-deps", "--target", str(target), str(wheel), cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"  # not the checkout, no gateway.toml, no samples
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("GATEWAY_FAILPOINT", "GATEWAY_CONFIG")}
    env["PYTHONPATH"] = str(target)

    def gateway(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip

    where = gateway("-c", "import gateway, gateway.shipped as s; print(gateway.__file__); print(s.shipped())")
    assert where.returncode == 0, where.stderr
    module, data = (Path(line) for line in where.stdout.splitlines())
    assert module.is_relative_to(target), f"gateway was imported from {module}, not from the wheel"
    assert data.is_relative_to(target) and not data.is_symlink()

    demo = gateway("-m", "gateway", "demo", "--workdir", "X")
    assert demo.returncode == 0, demo.stderr
    workdir = elsewhere / "X"
    produced = {
        p.relative_to(workdir).as_posix(): p.read_bytes()
        for folder in ("out/factor", "clients/acme/out", "clients/bravo/out")
        for p in sorted((workdir / folder).glob("[!.]*"))
    }
    golden = {p.relative_to(GOLDEN).as_posix(): p.read_bytes() for p in GOLDEN.rglob("*") if p.is_file()}
    assert produced == golden, "the installed demo does not write the golden outputs"

    explain = gateway("-m", "gateway", "explain", "GW-DUPLICATE-INVOICE")
    assert explain.returncode == 0, explain.stderr
    assert explain.stdout.startswith("GW-DUPLICATE-INVOICE (refuses that document): ")
    assert "already assigned" in explain.stdout
