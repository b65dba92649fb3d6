"""``gateway doctor``: what stands between this configuration and a working gateway, in words.

Every check only looks: no ledger is created or upgraded, no folder is created or bound, no
lock is taken (a gateway starting meanwhile is never refused because of the doctor). Each
check gives :class:`Finding` lines; a finding that is not ``ok`` says how to fix it.

* **configuration** -- it loads (the command reports a configuration that does not as every
  command does);
* **ledger** -- the URL is usable, the database answers and is at the schema revision of this
  gateway; no ledger yet is fine (the first run creates it);
* **folders** -- every channel folder (inbound: ``inbox/``, ``work/``, ``archive/``, ``error/``;
  outbound: its root) is a folder the gateway can read and write, or can be created;
* **same-file-system** -- an inbound channel's folders are on one file system: files move
  between them by ``rename``, which cannot cross file systems;
* **binding** -- each folder belongs to this ledger (:func:`gateway.workdir.review_folder`,
  the check every run makes);
* **disk-space** -- each file system the gateway writes to has room left;
* **running**, **work**, **error** -- for information: a gateway process working on a channel
  or on the SQLite ledger now, files waiting in ``work/`` (a crash left them; the next run
  resumes them) and files in ``error/``.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exc
from sqlalchemy.engine import make_url

from gateway.errors import LedgerError, TransportError
from gateway.ledger import Ledger
from gateway.ledger.engine import (
    create_ledger_engine,
    describe_error,
    head_revision,
    known_revisions,
    schema_revision,
)
from gateway.ledger.sqlite_guard import read_lock_stamp
from gateway.settings import Settings
from gateway.transports.channel_lock import LOCK_NAME, FolderLock, process_alive
from gateway.transports.local.outcomes import REASON_SUFFIX
from gateway.workdir import ADOPT_HINT, Folder, LedgerFacts, channel_folders, review_folder

#: Below this much free space on a file system the gateway writes to, a problem is reported.
DEFAULT_MIN_FREE_BYTES = 512 * 1024 * 1024
#: A PostgreSQL server that does not answer is reported after this long, not after TCP's minutes.
CONNECT_TIMEOUT_SECONDS = 10
INBOUND_FOLDERS = ("inbox", "work", "archive", "error")


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the diagnosis: what was checked, on what, the verdict, and how to fix it."""

    check: str
    subject: str
    ok: bool
    message: str
    fix: str = ""  # given when not ok

    def to_dict(self) -> dict[str, object]:
        return {
            "check": self.check,
            "subject": self.subject,
            "ok": self.ok,
            "message": self.message,
            "fix": self.fix or None,
        }


def diagnose(settings: Settings, *, min_free_bytes: int = DEFAULT_MIN_FREE_BYTES) -> list[Finding]:
    """Every check, in the order a person reads them; changes nothing."""
    inbound = sum(len(client.inbound) for client in settings.clients)
    findings = [
        Finding(
            "configuration",
            str(settings.source),
            True,
            f"loads: {len(settings.clients)} client(s), {inbound} inbound channel(s)",
        )
    ]
    ledger_findings, facts = check_ledger(settings)
    findings += ledger_findings
    folders = list(channel_folders(settings))
    for folder in folders:
        findings += check_folder(settings, folder)
        if folder.inbound:
            findings += check_same_file_system(folder)
        if facts is not None:
            findings.append(check_binding(folder, facts))
    findings += check_disk_space(_written_paths(settings, folders), min_free_bytes)
    findings += check_activity(settings)
    return findings


# -- the ledger -------------------------------------------------------------------------------


def check_ledger(settings: Settings) -> tuple[list[Finding], LedgerFacts | None]:
    """The ledger's findings, and what the folder review needs of it (``None``: unusable)."""
    subject = _shown_url(settings.ledger_url)
    fix_url = f"correct ledger_url (or ledger_url_file) in {settings.source}"
    try:
        engine = create_ledger_engine(_bounded_wait(settings.ledger_url), create_folder=False)
    except LedgerError as err:
        return [Finding("ledger", subject, False, str(err), fix_url)], None
    findings: list[Finding] = []
    try:
        if engine.dialect.name == "sqlite":
            path = Path(engine.url.database or "")
            findings += check_folder_path("folders", f"{path.parent} (the ledger's folder)", path.parent)
            if not path.exists():
                findings.insert(
                    0, Finding("ledger", subject, True, "no ledger yet: it will be created by the first run")
                )
                return findings, LedgerFacts.not_created(subject)
            if not os.access(path, os.R_OK | os.W_OK):
                message = f"the ledger file {path} cannot be read and written by {getpass.getuser()}"
                fix = "give the user running the gateway read and write access to the ledger file"
                return [Finding("ledger", subject, False, message, fix), *findings], None
        try:
            current = schema_revision(engine)
        except exc.SQLAlchemyError as err:
            fix = (
                f"check that the database server runs and accepts this user from {socket.gethostname()}; "
                f"else {fix_url}"
            )
            if engine.dialect.name == "sqlite":
                fix = "restore the ledger file from a backup, or " + fix_url
            findings.insert(
                0, Finding("ledger", subject, False, f"cannot be read: {describe_error(err)}", fix)
            )
            return findings, None
    finally:
        engine.dispose()
    verdict, facts = _revision_verdict(settings, subject, current)
    return [verdict, *findings], facts


def _revision_verdict(
    settings: Settings, subject: str, current: str | None
) -> tuple[Finding, LedgerFacts | None]:
    head = head_revision()
    if current is None:
        message = "no ledger yet (the database is empty): the first run creates its tables"
        return Finding("ledger", subject, True, message), LedgerFacts.not_created(subject)
    if current not in known_revisions():
        return Finding(
            "ledger",
            subject,
            False,
            f"at schema revision {current}, which this version of the gateway does not know: "
            "a newer gateway wrote it",
            "install the version of the gateway that last worked on this ledger",
        ), None
    if current != head:
        return Finding(
            "ledger",
            subject,
            False,
            f"at schema revision {current}; this gateway works with {head} (status and validate "
            "refuse it until it is upgraded)",
            "back the ledger up, then run `gateway run --once`: it upgrades the ledger first",
        ), None
    try:
        ledger = Ledger.open_for_reading(_bounded_wait(settings.ledger_url))
        if ledger is None:  # removed between the two looks
            return Finding("ledger", subject, True, "no ledger yet"), LedgerFacts.not_created(subject)
        try:
            identity, empty = ledger.identity(), ledger.is_empty()
        finally:
            ledger.close()
    except LedgerError as err:
        fix = "restore the ledger from a backup, or point ledger_url at the right one"
        return Finding("ledger", subject, False, str(err), fix), None
    facts = LedgerFacts(identity, subject, lambda: empty)
    state = "empty" if empty else "has processed files"
    return Finding("ledger", subject, True, f"ledger {identity}, schema revision {head}, {state}"), facts


def _shown_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "(not a database URL)"


def _bounded_wait(url: str) -> str:
    """A PostgreSQL URL with a connection timeout, unless it sets one."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        return url  # create_ledger_engine says what is wrong with it
    if parsed.get_backend_name() != "postgresql" or "connect_timeout" in parsed.query:
        return url
    bounded = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_SECONDS)})
    return bounded.render_as_string(hide_password=False)


# -- folders ----------------------------------------------------------------------------------


def _paths_of(folder: Folder) -> list[Path]:
    if folder.inbound:
        return [folder.root / name for name in INBOUND_FOLDERS]
    return [folder.root]


def check_folder(settings: Settings, folder: Folder) -> list[Finding]:
    problems: list[str] = []
    missing: list[str] = []
    for path in _paths_of(folder):
        exists, problem = _folder_state(path)
        if problem is not None:
            problems.append(problem)
        elif not exists:
            missing.append(path.name + "/" if folder.inbound else str(path))
    subject = f"{folder.root} ({folder.label})"
    if problems:
        fix = (
            f"give the user running the gateway ({getpass.getuser()}) a folder it can read and write "
            f"there, or point {folder.label} at another path in {settings.source}"
        )
        return [Finding("folders", subject, False, "; ".join(problems), fix)]
    message = "can be read and written"
    if folder.inbound:
        message = f"{', '.join(f'{p.name}/' for p in _paths_of(folder))} {message}"
    if missing:
        message += f"; {', '.join(missing)} missing: created by the first run"
    return [Finding("folders", subject, True, message)]


def check_folder_path(check: str, subject: str, path: Path) -> list[Finding]:
    exists, problem = _folder_state(path)
    if problem is not None:
        fix = f"give the user running the gateway ({getpass.getuser()}) a folder it can write there"
        return [Finding(check, subject, False, problem, fix)]
    message = "can be written" if exists else "missing: created by the first run"
    return [Finding(check, subject, True, message)]


def _folder_state(path: Path) -> tuple[bool, str | None]:
    """(whether it exists, what is wrong): a folder the gateway can use, or create where missing."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        if os.path.lexists(path):
            return True, f"{path} is a broken link"
        ancestor = path.parent
        while not os.path.lexists(ancestor):
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            return False, f"{path} cannot be created: {ancestor} is a file, not a folder"
        problem = _access_problem(ancestor)
        return False, None if problem is None else f"{path} cannot be created: {problem}"
    except OSError as err:
        return True, f"{path}: {err.strerror or err}"
    if not path.is_dir():
        return True, f"{path} is a file, not a folder"
    return True, _access_problem(path)


def _access_problem(path: Path) -> str | None:
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        return f"{path} cannot be read and written by {getpass.getuser()}"
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return f"{path} is on a read-only file system"
    except OSError as err:
        return f"{path}: {err.strerror or err}"
    return None


def _existing_ancestor(path: Path) -> Path:
    while not os.path.lexists(path) or not path.is_dir():
        if path == path.parent:
            break
        path = path.parent
    return path


def check_same_file_system(folder: Folder) -> list[Finding]:
    devices: dict[int, list[str]] = {}
    for path in _paths_of(folder):
        try:
            device = os.stat(_existing_ancestor(path)).st_dev
        except OSError:
            continue  # the folder check reports it
        devices.setdefault(device, []).append(f"{path.name}/")
    subject = f"{folder.root} ({folder.label})"
    if len(devices) <= 1:
        message = f"{', '.join(f'{name}/' for name in INBOUND_FOLDERS)} on one file system"
        return [Finding("same-file-system", subject, True, message)]
    groups = " | ".join(", ".join(names) for names in devices.values())
    return [
        Finding(
            "same-file-system",
            subject,
            False,
            f"its folders are on {len(devices)} file systems ({groups}): files move between them by "
            "renaming, which cannot cross file systems",
            f"keep the whole of {folder.root} on one file system (mount at {folder.root} or above it)",
        )
    ]


def check_binding(folder: Folder, facts: LedgerFacts) -> Finding:
    subject = f"{folder.root} ({folder.label})"
    try:
        review = review_folder(folder, facts)
    except TransportError as err:
        return Finding("binding", subject, False, str(err), "restore the marker, or `gateway ledger adopt`")
    if review.problem is not None:
        return Finding("binding", subject, False, review.problem, ADOPT_HINT)
    if review.to_bind:
        return Finding("binding", subject, True, "not bound yet: the next run binds it to this ledger")
    return Finding("binding", subject, True, "belongs to this ledger")


# -- disk space -------------------------------------------------------------------------------


def _sqlite_file(settings: Settings) -> Path | None:
    try:
        url = make_url(settings.ledger_url)
    except exc.ArgumentError:
        return None
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(url.database)
    return None


def _written_paths(settings: Settings, folders: list[Folder]) -> list[Path]:
    paths = [folder.root for folder in folders]
    ledger = _sqlite_file(settings)
    if ledger is not None:
        paths.insert(0, ledger.parent)
    return paths


def check_disk_space(paths: list[Path], min_free_bytes: int) -> list[Finding]:
    """One finding per file system the gateway writes to."""
    by_device: dict[int, list[Path]] = {}
    free: dict[int, int] = {}
    for path in paths:
        existing = _existing_ancestor(path)
        try:
            device = os.stat(existing).st_dev
            stats = os.statvfs(existing)
        except OSError:
            continue  # the folder check reports it
        by_device.setdefault(device, []).append(path)
        free[device] = stats.f_bavail * stats.f_frsize
    findings = []
    for device, where in by_device.items():
        subject = str(where[0]) + (f" and {len(where) - 1} other folder(s)" if len(where) > 1 else "")
        room = _size(free[device])
        if free[device] >= min_free_bytes:
            findings.append(Finding("disk-space", subject, True, f"{room} free"))
        else:
            findings.append(
                Finding(
                    "disk-space",
                    subject,
                    False,
                    f"only {room} free on this file system (the gateway wants {_size(min_free_bytes)})",
                    "free space there (old archive/ folders can move to other storage), or move the folders",
                )
            )
    return findings


def _size(count: int) -> str:
    if count >= 1 << 30:
        return f"{count / (1 << 30):.1f} GiB"
    return f"{count / (1 << 20):.0f} MiB"


# -- who works here now, and what waits -------------------------------------------------------


def _sqlite_activity(ledger: Path) -> list[Finding]:
    stamp = read_lock_stamp(ledger)
    subject = f"{ledger} (the ledger)"
    if stamp is not None and stamp.host != socket.gethostname():
        message = f"pid {stamp.pid} on {stamp.host} took it last, since {stamp.since} (another host)"
        return [Finding("running", subject, True, message)]
    if stamp is not None and process_alive(stamp.pid):
        message = f"pid {stamp.pid} works on it now (since {stamp.since}); reading stays possible"
        return [Finding("running", subject, True, message)]
    return [Finding("running", subject, True, "no gateway process works on it now")]


def check_activity(settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    ledger = _sqlite_file(settings)
    if ledger is not None:
        findings += _sqlite_activity(ledger)
    for client in settings.clients:
        for channel in client.inbound:
            root = channel.transport.root
            holder = FolderLock(root / LOCK_NAME, TransportError, channel.id).holder()
            running = f"{holder} works on it now" if holder else "no gateway process works on it now"
            findings.append(Finding("running", channel.id, True, running))
            waiting = _count(root / "work")
            if not waiting:
                work = "work/ is empty"
            elif holder:
                work = f"{waiting} file(s) in work/, being processed by {holder}"
            else:
                work = (
                    f"{waiting} file(s) in work/, left by an interrupted run: the next run "
                    "(`gateway run --once`, or the daemon) resumes them"
                )
            findings.append(Finding("work", channel.id, True, work))
            refused = _count(root / "error")
            error = (
                f"{refused} file(s) in error/ (refused or failed), each with a {REASON_SUFFIX} saying why"
                if refused
                else "error/ is empty"
            )
            findings.append(Finding("error", channel.id, True, error))
    return findings


def _count(folder: Path) -> int:
    """Files at the top of ``folder``, without dot-files and reasons."""
    return sum(1 for _ in _files(folder))


def _files(folder: Path) -> Iterator[str]:
    try:
        with os.scandir(folder) as listing:
            for item in listing:
                if item.name.startswith(".") or item.name.endswith(REASON_SUFFIX):
                    continue
                if item.is_file(follow_symlinks=False):
                    yield item.name
    except OSError:
        return  # missing or unreadable: the folder check reports it
