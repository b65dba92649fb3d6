"""The channel lock on a real folder: what only the kernel can show (a killed holder, the lock file)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gateway.errors import TransportError
from gateway.settings import LocalFolderSettings
from gateway.transports.channel_lock import LOCK_NAME, process_alive
from gateway.transports.local import LocalFolderInbound

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from gateway.settings import LocalFolderSettings
    from gateway.transports.local import LocalFolderInbound

    transport = LocalFolderInbound("acme", LocalFolderSettings(Path(sys.argv[1]), "rename"))
    assert transport.acquire()
    print("held", flush=True)
    time.sleep(120)
    """
)


def _open(root: Path) -> LocalFolderInbound:
    return LocalFolderInbound("acme", LocalFolderSettings(root, "rename"))


def test_local_lock_of_a_killed_process_is_free_at_once(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    transport = _open(tmp_path)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert not transport.acquire()
        holder = transport.holder()
        assert holder is not None
        assert re.fullmatch(
            rf"pid {child.pid} on {re.escape(socket.gethostname())} since \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
            holder,
        )
        with pytest.raises(TransportError, match="acquire"):
            transport.recover()
        child.send_signal(signal.SIGKILL)  # no clean-up code runs: only the kernel releases the lock
        child.wait(timeout=10)
        assert transport.holder() is None  # the file still names the dead process; it is not reported
        assert transport.acquire(wait_seconds=5)
        assert transport.recover() == []
        assert transport.holder() == (tmp_path / LOCK_NAME).read_text(encoding="utf-8").strip()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        transport.close()


def test_local_lock_file_says_who_while_held_and_nothing_after(tmp_path: Path) -> None:
    transport = _open(tmp_path)
    assert transport.acquire()
    text = (tmp_path / LOCK_NAME).read_text(encoding="utf-8")
    assert text.startswith(f"pid {os.getpid()} on ") and text.endswith("\n")
    transport.close()
    assert (tmp_path / LOCK_NAME).read_text(encoding="utf-8") == ""  # kept, never deleted
    assert _open(tmp_path).holder() is None


def test_local_two_transports_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    first, second = _open(tmp_path), _open(tmp_path)
    assert first.acquire()
    assert not second.acquire()
    first.close()
    assert second.acquire()
    second.close()


def test_local_lock_fails_in_words_when_the_root_is_gone(tmp_path: Path) -> None:
    transport = _open(tmp_path / "root")
    shutil.rmtree(tmp_path / "root")
    with pytest.raises(TransportError, match=r"cannot lock the channel .*root does not exist") as caught:
        transport.acquire()
    assert isinstance(caught.value.__cause__, FileNotFoundError)


def test_process_alive() -> None:
    assert process_alive(os.getpid())
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    assert not process_alive(int(finished.stdout))
    assert not process_alive(0) and not process_alive(-1)
