"""When the environment fails, the transport says what, where and why, and loses nothing.

Tests run as root, for whom permission bits stop nothing: failures are made with a
folder replaced by a file, a folder removed, or a tiny tmpfs (full, then read-only),
skipped where the OS refuses the mount.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from gateway.errors import ClaimLost, DeliveryError, TransportError
from gateway.settings import LocalFolderSettings
from gateway.transports.base import Entry, Finalization, OutboundFile, Outcome
from gateway.transports.local import LocalFolderInbound, LocalFolderOutbound

DAY = date(2025, 3, 10)


def _claimed(transport: LocalFolderInbound, *names: str) -> list[Entry]:
    for name in names:
        (transport.inbox / name).write_bytes(name.encode())
    return [transport.claim(e) for e in transport.scan()]


def _archive(day: date = DAY) -> Finalization:
    return Finalization(Outcome.ARCHIVED, day)


def _reject() -> Finalization:
    return Finalization(Outcome.REJECTED, DAY, {"code": "GW-TEST"})


def _hidden(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(".")]


@pytest.fixture
def renamed(tmp_path: Path) -> Iterator[LocalFolderInbound]:
    # no quiet time asked: a file renamed in is taken at first sight
    transport = LocalFolderInbound("acme", LocalFolderSettings(tmp_path / "in", "rename", 0.0))
    yield transport
    transport.close()


def test_archive_path_that_is_a_file_keeps_that_file_in_work(renamed: LocalFolderInbound) -> None:
    stuck, other_day, bad = _claimed(renamed, "invoices.csv", "other.csv", "bad.csv")
    (renamed.archive / "2025").write_bytes(b"someone's file")
    with pytest.raises(TransportError) as caught:
        renamed.finalize([(stuck, _archive()), (other_day, _archive(date(2024, 1, 2))), (bad, _reject())])
    assert str(caught.value) == (
        f"acme: cannot archive invoices.csv: {renamed.archive / '2025'} is not a folder (Not a directory)"
    )
    assert isinstance(caught.value.__cause__, NotADirectoryError)
    assert os.listdir(renamed.work) == ["invoices.csv"]
    assert os.listdir(renamed.archive / "2024" / "01" / "02") == ["other.csv"]
    assert sorted(os.listdir(renamed.error)) == ["bad.csv", "bad.csv.reason.json"]
    os.unlink(renamed.archive / "2025")  # repaired: the retry goes through
    renamed.finalize([(stuck, _archive())])
    assert os.listdir(renamed.work) == []


@pytest.mark.parametrize("count", [1, 6])  # one fsync per reason, and the batched syncfs path
def test_error_area_that_is_a_file_keeps_the_rejected_in_work(
    renamed: LocalFolderInbound, count: int
) -> None:
    rejected = _claimed(renamed, *(f"bad{n}.csv" for n in range(count)))
    [accepted] = _claimed(renamed, "good.csv")
    shutil.rmtree(renamed.error)
    renamed.error.write_bytes(b"not a folder")
    with pytest.raises(TransportError, match=r"cannot write the reason for bad0\.csv into .*error") as caught:
        renamed.finalize([*((e, _reject()) for e in rejected), (accepted, _archive())])
    assert f"{renamed.error} is not a folder" in str(caught.value)
    assert sorted(os.listdir(renamed.work)) == sorted(e.name for e in rejected)
    assert os.listdir(renamed.archive / "2025" / "03" / "10") == ["good.csv"]


def test_a_symlink_that_cannot_be_parked_stays_in_the_inbox(renamed: LocalFolderInbound) -> None:
    (renamed.inbox / "link.csv").symlink_to("/etc/passwd")
    shutil.rmtree(renamed.error)
    with pytest.raises(TransportError, match=r"cannot move 'link\.csv' from .* does not exist"):
        renamed.scan()
    assert os.listdir(renamed.inbox) == ["link.csv"]


def test_inbox_folder_removed(renamed: LocalFolderInbound) -> None:
    shutil.rmtree(renamed.inbox)
    with pytest.raises(TransportError) as caught:
        renamed.scan()
    assert str(caught.value) == (
        f"acme: cannot scan the inbox {renamed.inbox}: "
        f"{renamed.inbox} does not exist (No such file or directory)"
    )
    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_work_folder_removed_is_not_a_lost_claim(renamed: LocalFolderInbound) -> None:
    (renamed.inbox / "a.csv").write_bytes(b"a")
    [entry] = renamed.scan()
    shutil.rmtree(renamed.work)
    with pytest.raises(TransportError, match=r"cannot claim a\.csv into .*work does not exist") as caught:
        renamed.claim(entry)
    assert not isinstance(caught.value, ClaimLost)
    assert os.listdir(renamed.inbox) == ["a.csv"]
    with pytest.raises(TransportError, match=r"cannot read a\.csv in .*work does not exist"):
        renamed.read(entry, 10)
    assert renamed.acquire()
    with pytest.raises(TransportError, match=r"cannot list the claimed files in .*work does not exist"):
        renamed.recover()


def test_channel_root_below_a_file(tmp_path: Path) -> None:
    (tmp_path / "clients").write_bytes(b"")
    with pytest.raises(TransportError, match=r"cannot create the channel folders .*clients is not a folder"):
        LocalFolderInbound("acme", LocalFolderSettings(tmp_path / "clients" / "acme"))
    with pytest.raises(DeliveryError, match=r"cannot create the output folder .*clients is not a folder"):
        LocalFolderOutbound("acme-out", LocalFolderSettings(tmp_path / "clients" / "out"))


def test_output_root_replaced_by_a_file(tmp_path: Path) -> None:
    out = LocalFolderOutbound("factor", LocalFolderSettings(tmp_path / "out", done_marker=True))
    shutil.rmtree(tmp_path / "out")
    (tmp_path / "out").write_bytes(b"")
    with pytest.raises(DeliveryError) as caught:
        out.deliver([OutboundFile("REM_0001.csv", b"a;b\n")])
    assert str(caught.value) == (
        f"factor: cannot deliver REM_0001.csv into {tmp_path / 'out'}: "
        f"{tmp_path / 'out'} is not a folder (Not a directory)"
    )
    assert isinstance(caught.value.__cause__, NotADirectoryError)
    with pytest.raises(DeliveryError, match="cannot look for leftovers"):
        out.recover()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, unmounted afterwards; skipped where mounting is refused (no privilege)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)]
    mounted = subprocess.run(command, capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path) -> None:
    """Leave no free block in ``folder``'s file system."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


@pytest.mark.parametrize("count", [1, 5])
def test_full_output_folder(tiny_disk: Path, count: int) -> None:
    out = LocalFolderOutbound("factor", LocalFolderSettings(tiny_disk / "out"))
    out.deliver([OutboundFile("REM_0001.csv", b"first")])
    batch = [OutboundFile(f"REM_01{n:02d}.csv", b"x" * 30_000) for n in range(count)]
    _fill(tiny_disk)
    full = r"factor: cannot write REM_0100\.csv into .*out: No space left on device"
    with pytest.raises(DeliveryError, match=full):
        out.deliver(batch)
    assert os.listdir(tiny_disk / "out") == ["REM_0001.csv"]  # no temporary left behind


def test_full_error_area_keeps_the_file_in_work(tiny_disk: Path) -> None:
    transport = LocalFolderInbound("acme", LocalFolderSettings(tiny_disk / "in", "rename", 0.0))
    [bad] = _claimed(transport, "bad.csv")
    _fill(tiny_disk)
    full = r"cannot write the reason for bad\.csv into .*error: No space left on device"
    with pytest.raises(TransportError, match=full):
        transport.finalize([(bad, Finalization(Outcome.REJECTED, DAY, {"message": "x" * 20_000}))])
    assert os.listdir(transport.work) == ["bad.csv"]
    assert os.listdir(transport.error) == []
    os.unlink(tiny_disk / "filler")
    transport.finalize([(bad, Finalization(Outcome.REJECTED, DAY, {"message": "x" * 20_000}))])
    assert sorted(os.listdir(transport.error)) == ["bad.csv", "bad.csv.reason.json"]
    transport.close()


def test_read_only_output_folder(tiny_disk: Path) -> None:
    out = LocalFolderOutbound("factor", LocalFolderSettings(tiny_disk / "out"))
    command = ["mount", "-o", "remount,ro", str(tiny_disk)]
    remounted = subprocess.run(command, capture_output=True, check=False)
    if remounted.returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only here")
    with pytest.raises(DeliveryError) as caught:
        out.deliver([OutboundFile("REM_0001.csv", b"a")])
    expected = f"factor: cannot write REM_0001.csv into {tiny_disk / 'out'}: Read-only file system"
    assert str(caught.value) == expected
    assert _hidden(tiny_disk / "out") == []
