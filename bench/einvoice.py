"""E-invoice validation benchmark (issue 8): ``python bench/einvoice.py`` prints a table.

The files: the public corpus, ``shared/corpus/{facturx-pdf,cii-xml,ubl-xml}`` next to the
repository (the ``en16931-unit-tests`` subfolders left out): 30 Factur-X / ZUGFeRD PDFs, 30 CII
and 24 UBL files, read into memory once (disk reads are not timed). Every row runs over the same
files, in the same run:

1. **factur-x** (the peer library): ``get_xml_from_pdf(pdf, check_xsd=False)`` for the PDFs, then
   ``xml_check_xsd`` on every XML (each file's XSD checked once), in this process. Its failures
   (no XML, an XSD error, a level it does not know) count as answers, not crashes.
2. **gateway, Schematron on**: the path ``gateway validate`` takes for each file,
   :func:`gateway.intake.examine` with no client: ``parse_file`` (PDF extraction in the sandboxed
   worker, hardened XML parse, XSD, the invoice model), the conformance verdict
   (:func:`gateway.validation.conformance.assess`: the official Schematron its syntax and profile
   call for) and the gateway's document rules. In this process, then in a pool of 2 worker
   processes (``spawn``) that each warm up before the clock starts.
3. **gateway, Schematron off**: the same with ``schematron=False`` (a channel's
   ``schematron = false``): XSD and the gateway's rules only.

**Warm-up.** Each process first validates every file once, untimed: that compiles the XSDs and
the Schematron XSLTs it needs (0.1-1 s each) and starts its PDF sandbox worker. Then ``--repeat``
timed passes over all the files; files/s is files per pass / pass time, the median and the
slowest-fastest range are shown. Pool start-up and warm-up are not timed.

``--stages`` adds where the time goes in one process, per folder (mean ms per file):
``parse_file`` alone, ``assess`` alone (the Schematron), the whole ``examine`` with and without
Schematron, and the factur-x library's extraction + XSD.

Targets (issue 8): the Schematron-on path at least 2x factur-x's throughput, and on 2 cores
>= 150 files/s with Schematron on, >= 1,000 files/s with it off. Results: ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpus"
FOLDERS = ("facturx-pdf", "cii-xml", "ubl-xml")
AS_OF = date(2025, 3, 10)
PACKAGES = ("lxml", "saxonche", "pypdf", "factur-x")
TARGET_SCHEMATRON, TARGET_NO_SCHEMATRON = 150, 1_000
STAGES = ("parse_file", "assess", "examine on", "examine off", "factur-x")

Corpus = list[tuple[str, bytes]]  # (folder/name, bytes)


def load_corpus(corpus: Path) -> Corpus:
    files = []
    for folder in FOLDERS:
        directory = corpus / folder
        if not directory.is_dir():
            raise SystemExit(f"the public corpus is not at {corpus} (no {folder}/); see --corpus")
        files += [(f"{folder}/{p.name}", p.read_bytes()) for p in sorted(directory.iterdir()) if p.is_file()]
    return files


def quiet_logs() -> None:
    """factur-x logs every XSD failure at ERROR and pypdf warns on broken PDFs: not what is measured."""
    logging.disable(logging.CRITICAL)


# --- the two paths ---------------------------------------------------------------------------------


def facturx_answer(name: str, data: bytes) -> str:
    """The factur-x library's extraction and XSD check of one file: what it says, never raises."""
    import facturx  # type: ignore[import-untyped, unused-ignore]

    try:
        xml = data
        if name.startswith("facturx-pdf/"):
            _, xml = facturx.get_xml_from_pdf(data, check_xsd=False)
            if not xml:
                return "no XML"
        facturx.xml_check_xsd(xml)
        return "XSD valid"
    except Exception:  # a broken PDF, an XSD error, a level it does not know
        return "refused"


def gateway_answer(name: str, data: bytes, schematron: bool) -> str:
    """The verdict of ``gateway validate``'s path (:func:`gateway.intake.examine`, no client)."""
    from gateway.intake import examine
    from gateway.limits import DEFAULT_LIMITS

    examined = examine(0, name.rsplit("/", 1)[-1], data, None, AS_OF, DEFAULT_LIMITS, schematron=schematron)
    return str(examined.conformance.verdict)


# --- timing ----------------------------------------------------------------------------------------


def timed_passes(
    files: Corpus, answer: Callable[[str, bytes], str], repeat: int
) -> tuple[list[float], Counter[str]]:
    """One untimed warm-up pass, then ``repeat`` timed ones (seconds each); the answers must not vary."""
    first = Counter(answer(name, data) for name, data in files)
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        answers = Counter(answer(name, data) for name, data in files)
        seconds.append(time.perf_counter() - started)
        if answers != first:
            raise SystemExit(f"the answers changed between passes: {first} then {answers}")
    return seconds, first


_WORKER_FILES: Corpus = []


def _worker_start(corpus: str, barrier: Any) -> None:
    """Pool initializer: load the files, warm up (compile, start the PDF sandbox), then wait for all."""
    global _WORKER_FILES
    quiet_logs()
    _WORKER_FILES = load_corpus(Path(corpus))
    for name, data in _WORKER_FILES:
        gateway_answer(name, data, schematron=True)
    barrier.wait(timeout=600)


def _worker_ready() -> int:
    return os.getpid()


def _worker_answer(task: tuple[int, bool]) -> str:
    index, schematron = task
    name, data = _WORKER_FILES[index]
    return gateway_answer(name, data, schematron)


def pool_passes(pool: Any, count: int, schematron: bool, repeat: int) -> tuple[list[float], Counter[str]]:
    tasks = [(index, schematron) for index in range(count)]
    first = Counter(pool.map(_worker_answer, tasks))  # warm for this mode too, untimed
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        answers = Counter(pool.map(_worker_answer, tasks))
        seconds.append(time.perf_counter() - started)
        if answers != first:
            raise SystemExit(f"the answers changed between passes: {first} then {answers}")
    return seconds, first


def stages(files: Corpus, repeat: int) -> dict[str, dict[str, float]]:
    """Mean ms per file, per folder (warm): ``parse_file``, ``assess`` (Schematron), the whole
    ``examine`` with and without Schematron, and the factur-x library's extraction + XSD."""
    from gateway.limits import DEFAULT_LIMITS
    from gateway.parsers import parse_file
    from gateway.validation.conformance import assess

    spent: dict[str, Counter[str]] = {}
    for pass_number in range(repeat + 1):  # the first pass is the warm-up
        for name, data in files:
            clock = [time.perf_counter()]
            result = parse_file(data, name.rsplit("/", 1)[-1], DEFAULT_LIMITS)
            clock.append(time.perf_counter())
            assess(result, DEFAULT_LIMITS)
            clock.append(time.perf_counter())
            gateway_answer(name, data, schematron=True)
            clock.append(time.perf_counter())
            gateway_answer(name, data, schematron=False)
            clock.append(time.perf_counter())
            facturx_answer(name, data)
            clock.append(time.perf_counter())
            if pass_number:
                counter = spent.setdefault(name.split("/", 1)[0], Counter())
                for key, start, end in zip(STAGES, clock, clock[1:], strict=False):
                    counter[key] += end - start
                counter["files"] += 1
    return {
        folder: {key: 1000 * counter[key] / counter["files"] for key in STAGES}
        | {"files": counter["files"] / repeat}
        for folder, counter in spent.items()
    }


# --- report ----------------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = ", ".join(f"{p} {importlib.metadata.version(p)}" for p in PACKAGES)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"machine: {platform.system()} {platform.release()}, nproc {usable} ({model}), "
        f"Python {platform.python_version()}\npackages: {versions}"
    )


def row(
    label: str, processes: int, files: int, seconds: Sequence[float], baseline: float | None, target: str
) -> float:
    rates = [files / s for s in seconds]
    median = files / statistics.median(seconds)
    ratio = f"{median / baseline:.1f}x" if baseline else "-"
    print(
        f"{label:46} {processes:>5} {files:>6} {statistics.median(seconds):>9.3f} {median:>9,.0f} "
        f"{min(rates):>8,.0f} - {max(rates):>6,.0f} {ratio:>11} {target:>9}"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="Timed passes per row (after one warm-up pass)."
    )
    parser.add_argument("--workers", type=int, default=2, help="Worker processes of the pool rows.")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help=f"The corpus folder (default {CORPUS}).")
    parser.add_argument("--stages", action="store_true", help="Also show where the time goes, per format.")
    args = parser.parse_args()
    quiet_logs()
    files = load_corpus(args.corpus)
    repeat = max(1, args.repeat)
    kinds = Counter(name.split("/", 1)[0] for name, _ in files)
    print(machine())
    print(
        f"files: {len(files)} ({', '.join(f'{n} {k}' for k, n in kinds.items())}), in memory; "
        f"1 warm-up pass per process (not timed), then {repeat} timed passes: median, slowest - fastest"
    )
    print(
        f"{'path':46} {'procs':>5} {'files':>6} {'s/pass':>9} {'files/s':>9} {'range files/s':>17} "
        f"{'vs factur-x':>11} {'target':>9}"
    )
    seconds, answers = timed_passes(files, facturx_answer, repeat)
    baseline = row("factur-x get_xml_from_pdf + xml_check_xsd", 1, len(files), seconds, None, "-")
    facturx_answers = answers

    verdicts: dict[str, Counter[str]] = {}
    for schematron in (True, False):
        seconds, verdicts[f"1-{schematron}"] = timed_passes(
            files, lambda n, d, s=schematron: gateway_answer(n, d, s), repeat
        )
        label = f"gateway examine, Schematron {'on' if schematron else 'off'}"
        target = f">= {2 * baseline:,.0f}" if schematron else "-"
        row(label, 1, len(files), seconds, baseline, target)

    # A ProcessPoolExecutor, not a multiprocessing.Pool: its workers are not daemonic, so each can start
    # its own PDF sandbox worker as the gateway does. Workers start on demand: one no-op task each makes
    # them all start; their initializers then wait for each other (and for this process) at the barrier.
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(args.workers + 1)
    with ProcessPoolExecutor(args.workers, context, _worker_start, (str(args.corpus), barrier)) as pool:
        started = [pool.submit(_worker_ready) for _ in range(args.workers)]
        barrier.wait(timeout=600)  # every worker loaded the files and warmed up
        for future in started:
            future.result()
        for schematron in (True, False):
            seconds, verdicts[f"{args.workers}-{schematron}"] = pool_passes(
                pool, len(files), schematron, repeat
            )
            label = f"gateway examine, Schematron {'on' if schematron else 'off'}"
            target = f">= {TARGET_SCHEMATRON if schematron else TARGET_NO_SCHEMATRON:,}"
            row(label, args.workers, len(files), seconds, baseline, target)

    print(f"factur-x answers: {dict(facturx_answers)}")
    for key, counts in verdicts.items():
        processes, schematron = key.split("-")
        mode = "on" if schematron == "True" else "off"
        print(f"gateway verdicts, {processes} process(es), Schematron {mode}: {dict(sorted(counts.items()))}")
    if args.stages:
        print("\nwhere the time goes (1 process, mean ms per file; examine includes parse_file and assess):")
        print(f"{'folder':12} {'files':>5} " + " ".join(f"{stage:>11}" for stage in STAGES))
        for folder, figures in stages(files, repeat).items():
            print(f"{folder:12} {figures['files']:>5.0f} " + " ".join(f"{figures[s]:>11.2f}" for s in STAGES))


if __name__ == "__main__":
    main()
