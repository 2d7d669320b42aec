"""Response export speed and memory: the real XLSX export against a bare XlsxWriter loop.

A generated definition of 120 variables (integers, decimals, dates, single and multiple
choices, texts) is loaded into a scratch database; 10,000 and 100,000 responses (each with
its sampled institution) are bulk-inserted with Core. For each size the real export
(``app.exports.workbook.write_xlsx``: rows streamed from the database, each response run
through its flow, the codebook and the other sheets) and a bare loop that writes the same
Responses and Contacts cells (a row per response on each, of the same types) with
XlsxWriter in constant-memory mode are timed in the same run, each in a fresh child
process so that its peak resident memory (``VmHWM``) is its own. Each child measures its
own CPU time (``time.process_time``) beside the wall clock; the ratio held to the target
is the CPU one, as the machine is shared and the wall clock counts the other jobs' turns
too. The two children alternate, so both see the same moment's load (printed). On
PostgreSQL the database server's work is in neither child's CPU time: measure the ratio
on SQLite (the default), where reading the rows is the export's own work.

Targets (issues 6, 21): real/bare CPU time <= 1.2 (median of ``--repeat`` runs); peak
memory < 200 MB; peak at 100k <= peak at 10k + 20 %.

Beside them, the SPSS export of the same responses (``app.exports.statfiles``, issue 22)
is timed in a child of its own: its time and peak memory are reported, not held to the
targets (pyreadstat writes a whole data frame, so its memory grows with the responses).

With repeats (issue 17): a second definition has a list (``podmioty``) of six variables
that every response fills five times; its workbook (the Responses sheet and the list's
sheet, written side by side) is timed against a bare XlsxWriter loop writing the same
cells to the same two sheets (and the Contacts sheet), for ``--repeat-sizes`` responses
(default 10,000, i.e. 50,000 entries). Same targets for the ratio and the peak memory.

    .venv/bin/python bench/export.py [--sizes 10000 100000] [--repeat 3] [--backend ...]
    .venv/bin/python bench/export.py --sizes 20000 --repeat 3 --repeat-sizes --no-sav
    .venv/bin/python bench/export.py --sizes --repeat-sizes 10000 50000   # repeats only
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.domain.outputs.export import META_COLUMNS, REPEAT_KEY_COLUMNS  # noqa: E402
from app.domain.outputs.words import CONTACTS, POLISH  # noqa: E402
from app.platform.db import make_engine  # noqa: E402 - needs the path above

INTEGERS, DECIMALS, DATES, SINGLES, TEXTS, MULTIPLES = 40, 15, 10, 35, 15, 5  # 120 variables
CODES = ("1", "2", "3", "4", "5")
TICKS = ("a", "b", "c")
SURVEY_ID = "bench_export"
# a sixth of the questions are asked only when the filter question is not answered "5"
FILTER, SKIP_CODE = "s000", "5"
CONDITIONAL = frozenset(f"s{n:03d}" for n in range(10, 30))
BATCH = 5_000
TARGET_RATIO, TARGET_MB, TARGET_GROWTH = 1.2, 200, 0.20


def definition() -> str:
    """The YAML definition: 120 variables in four groups."""
    lines = [
        "settings:",
        f"  id: {SURVEY_ID}",
        "  title: {pl: 'Test wydajności eksportu', en: 'Export benchmark'}",
        "  languages: [pl, en]",
        "choices:",
        "  skala:",
        *(f"    - {{name: '{c}', label: {{pl: 'Ocena {c}', en: 'Score {c}'}}}}" for c in CODES),
        "  wiele:",
        *(f"    - {{name: '{c}', label: {{pl: 'Opcja {c}', en: 'Option {c}'}}}}" for c in TICKS),
        "survey:",
    ]
    for name, kind in variables():
        lines += [
            f"  - type: {kind}",
            f"    name: {name}",
            f"    label: {{pl: 'Pytanie {name}', en: 'Question {name}'}}",
        ]
        if name in CONDITIONAL:
            lines.append(f"    relevant: \"${{{FILTER}}} != '{SKIP_CODE}'\"")
    return "\n".join(lines) + "\n"


def variables() -> list[tuple[str, str]]:
    """(name, type) of the 120 variables, in questionnaire order."""
    spec = [
        ("i", "integer", INTEGERS),
        ("d", "decimal", DECIMALS),
        ("t", "date", DATES),
        ("s", "select_one skala", SINGLES),
        ("x", "text", TEXTS),
        ("m", "select_multiple wiele", MULTIPLES),
    ]
    return [(f"{prefix}{n:03d}", kind) for prefix, kind, count in spec for n in range(count)]


def answers(n: int) -> dict[str, Any]:
    """The stored (JSON) answers of response ``n``, the same on every call."""
    rnd = random.Random(n)
    data: dict[str, Any] = {}
    for name, kind in variables():
        if rnd.random() < 0.03 and name != FILTER:
            data[name] = {"missing": "dont_know"}
        elif kind == "integer":
            data[name] = rnd.randint(0, 5000)
        elif kind == "decimal":
            data[name] = f"{rnd.randint(0, 10**6)}.{rnd.randint(0, 99):02d}"
        elif kind == "date":
            data[name] = (date(2025, 1, 1) + timedelta(days=rnd.randint(0, 364))).isoformat()
        elif kind.startswith("select_one"):
            data[name] = rnd.choice(CODES)
        elif kind == "text":
            data[name] = f"Odpowiedź {n} – zażółć gęślą jaźń {rnd.randint(0, 10**6)}"
        else:
            data[name] = [c for c in TICKS if rnd.random() < 0.5]
    return data


def bare_cells(n: int) -> list[Any]:
    """The Responses row the export writes for response ``n`` (what the bare loop writes)."""
    started = datetime(2026, 3, 2, 8, 0) + timedelta(minutes=n % 10_000)
    row: list[Any] = [
        n,
        f"{n:06d}",
        f"Instytucja nr {n}",
        "CIS",
        "centralny",
        "gliwicki",
        "Gliwice",
        "internet",  # the Polish file's words (app.domain.outputs.words)
        "kompletna",
        started,
        started + timedelta(minutes=20),
        20.0,
        None,
        1,
        1,  # demo (the seeded responses are)
        0,  # test
    ]
    data = answers(n)
    skipped = data[FILTER] == SKIP_CODE
    for name, kind in variables():
        value = data[name]
        if skipped and name in CONDITIONAL:  # not asked: kept in storage, blank in the export
            row.append(None)
        elif isinstance(value, dict):
            row.append(-98)
            if kind.startswith("select_multiple"):
                row.extend([None] * len(TICKS))
        elif kind == "decimal":
            row.append(float(Decimal(value)))
        elif kind == "date":
            row.append(date.fromisoformat(value))
        elif kind.startswith("select_multiple"):
            row.append(" ".join(value))
            row.extend(int(c in value) for c in TICKS)
        else:
            row.append(value)
    return row


def bare_contact_cells(n: int) -> list[Any]:
    """The Contacts row the export writes for the institution of response ``n``: its
    keys, its response's status and the e-mail counts (none sent here)."""
    return [f"{n:06d}", f"Instytucja nr {n}", "CIS", "centralny", "kompletna", 0, 0, 0, 0]


def write_bare_contacts(book: Any, size: int) -> tuple[float, float]:
    """The Contacts sheet (one row per institution, as the export's); the wall and CPU
    time spent making its cells, which the export reads from the database."""
    from app.exports.services import CONTACT_COLUMNS

    sheet = book.add_worksheet(POLISH.sheet(CONTACTS))
    for col, title in enumerate(POLISH.header(CONTACT_COLUMNS)):
        sheet.write_string(0, col, title)
    making = making_cpu = 0.0
    for n in range(size):
        t1, c1 = time.perf_counter(), time.process_time()
        cells = bare_contact_cells(n)
        making += time.perf_counter() - t1
        making_cpu += time.process_time() - c1
        for col, value in enumerate(cells):
            if isinstance(value, str):
                sheet.write_string(n + 1, col, value)
            else:
                sheet.write_number(n + 1, col, value)
    return making, making_cpu


# --- a questionnaire with a repeat ------------------------------------------------------------

REPEAT_SURVEY_ID = "bench_export_repeats"
REPEAT_NAME, INSTANCES = "podmioty", 5
REPEAT_MAIN = [("r_liczba", "integer"), ("r_ocena", "select_one skala"), ("r_opis", "text")]
REPEAT_CHILDREN = [
    ("p_nazwa", "text"),
    ("p_typ", "select_one skala"),
    ("p_miejsca", "integer"),
    ("p_kwota", "decimal"),
    ("p_od", "date"),
    ("p_formy", "select_multiple wiele"),
]


def repeat_definition() -> str:
    """The YAML definition: three questions, then a list of six."""
    lines = [
        "settings:",
        f"  id: {REPEAT_SURVEY_ID}",
        "  title: {pl: 'Test eksportu list', en: 'Repeat export benchmark'}",
        "  languages: [pl, en]",
        "choices:",
        "  skala:",
        *(f"    - {{name: '{c}', label: {{pl: 'Ocena {c}', en: 'Score {c}'}}}}" for c in CODES),
        "  wiele:",
        *(f"    - {{name: '{c}', label: {{pl: 'Opcja {c}', en: 'Option {c}'}}}}" for c in TICKS),
        "survey:",
    ]
    for name, kind in REPEAT_MAIN:
        lines += [
            f"  - type: {kind}",
            f"    name: {name}",
            f"    label: {{pl: 'Pytanie {name}', en: 'Question {name}'}}",
        ]
    lines += [
        "  - type: repeat",
        f"    name: {REPEAT_NAME}",
        "    label: {pl: 'Podmiot', en: 'Entity'}",
        "    children:",
    ]
    for name, kind in REPEAT_CHILDREN:
        lines += [
            f"      - type: {kind}",
            f"        name: {name}",
            f"        label: {{pl: 'Pole {name}', en: 'Field {name}'}}",
        ]
    return "\n".join(lines) + "\n"


def repeat_answers(n: int) -> dict[str, Any]:
    """The stored (JSON) answers of response ``n`` of the repeats definition."""
    rnd = random.Random(n)
    entries = [
        {
            "p_nazwa": f"Podmiot {n}/{k} – spółdzielnia socjalna {rnd.randint(0, 10**6)}",
            "p_typ": rnd.choice(CODES),
            "p_miejsca": rnd.randint(0, 50),
            "p_kwota": f"{rnd.randint(0, 10**5)}.{rnd.randint(0, 99):02d}",
            "p_od": (date(2024, 1, 1) + timedelta(days=rnd.randint(0, 700))).isoformat(),
            "p_formy": [c for c in TICKS if rnd.random() < 0.5],
        }
        for k in range(INSTANCES)
    ]
    return {
        "r_liczba": rnd.randint(0, 100),
        "r_ocena": rnd.choice(CODES),
        "r_opis": f"Opis {n}",
        REPEAT_NAME: entries,
    }


def bare_repeat_cells(n: int) -> tuple[list[Any], list[list[Any]]]:
    """The Responses row and the list's rows the export writes for response ``n``."""
    started = datetime(2026, 3, 2, 8, 0) + timedelta(minutes=n % 10_000)
    data = repeat_answers(n)
    row: list[Any] = [
        n,
        f"{n:06d}",
        f"Instytucja nr {n}",
        "CIS",
        "centralny",
        "gliwicki",
        "Gliwice",
        "internet",  # the Polish file's words (app.domain.outputs.words)
        "kompletna",
        started,
        started + timedelta(minutes=20),
        20.0,
        None,
        1,
        1,
        0,
        data["r_liczba"],
        data["r_ocena"],
        data["r_opis"],
        INSTANCES,
    ]
    entries = []
    for k, entry in enumerate(data[REPEAT_NAME], start=1):
        formy = entry["p_formy"]
        entries.append(
            [
                n,
                n,
                k,
                f"{n}/{k}",
                entry["p_nazwa"],
                entry["p_typ"],
                entry["p_miejsca"],
                float(Decimal(entry["p_kwota"])),
                date.fromisoformat(entry["p_od"]),
                " ".join(formy),
                *(int(c in formy) for c in TICKS),
            ]
        )
    return row, entries


# --- the data -------------------------------------------------------------------------------------


def seed(url: str, sizes: list[int], *, repeats: bool = False) -> dict[int, int]:
    """Load the definition (``repeats``: the one with a list) and one fieldwork per size;
    returns size -> fieldwork id."""
    from app.fieldwork.services import create_fieldwork
    from app.models.fieldwork import Response, SampleUnit
    from app.surveys.services import load_bytes

    engine = make_engine(url)
    fieldworks: dict[int, int] = {}
    text, survey_id = (
        (repeat_definition(), REPEAT_SURVEY_ID) if repeats else (definition(), SURVEY_ID)
    )
    make_answers = repeat_answers if repeats else answers
    with Session(engine) as session:
        loaded = load_bytes(session, text.encode("utf-8"), f"{survey_id}.yaml")
        assert loaded.ok, [str(p) for p in loaded.problems]
        for size in sizes:
            fieldwork = create_fieldwork(session, survey_id, f"Bench {size}")
            fieldworks[size] = fieldwork.id
        session.commit()
        version_id = loaded.version.id
    now = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    with engine.begin() as connection:
        for size, fieldwork_id in fieldworks.items():
            t0 = time.perf_counter()
            for start in range(0, size, BATCH):
                numbers = range(start, min(size, start + BATCH))
                unit_ids = connection.scalars(
                    insert(SampleUnit.__table__).returning(
                        SampleUnit.__table__.c.id, sort_by_parameter_order=True
                    ),
                    [
                        {
                            "fieldwork_id": fieldwork_id,
                            "external_id": f"{n:06d}",
                            "name": f"Instytucja nr {n}",
                            "entity_type": "CIS",
                            "subregion": "centralny",
                            "powiat": "gliwicki",
                            "gmina": "Gliwice",
                            "contact_person": "",
                            "email": "",
                            "variables": {},
                            "token": f"b{fieldwork_id}-{n}",
                            "created_at": now,
                        }
                        for n in numbers
                    ],
                ).all()
                rows = []
                for n, unit_id in zip(numbers, unit_ids, strict=True):
                    started = now + timedelta(hours=1, minutes=n % 10_000)
                    rows.append(
                        {
                            "fieldwork_id": fieldwork_id,
                            "sample_unit_id": unit_id,
                            "survey_version_id": version_id,
                            "answers": make_answers(n),
                            "status": "complete",
                            "language": "pl",
                            "revision": 1,
                            "via_web": True,
                            "via_phone": False,
                            "is_demo": True,
                            "started_at": started,
                            "updated_at": started + timedelta(minutes=20),
                            "completed_at": started + timedelta(minutes=20),
                        }
                    )
                connection.execute(insert(Response.__table__), rows)
            print(f"seeded {size} responses in {time.perf_counter() - t0:.1f} s", flush=True)
    engine.dispose()
    return fieldworks


# --- one measurement, in a child process ----------------------------------------------------------


def measure_real(url: str, fieldwork_id: int, out: Path) -> dict[str, float]:
    from app.exports.workbook import write_xlsx
    from app.models.fieldwork import Fieldwork

    engine = make_engine(url)
    with Session(engine) as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        t0, c0 = time.perf_counter(), time.process_time()
        rows = write_xlsx(session, fieldwork, out)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    engine.dispose()
    return {"seconds": seconds, "cpu": cpu, "rows": rows}


def measure_sav(url: str, fieldwork_id: int, out: Path) -> dict[str, float]:
    from app.exports.statfiles import write_statfile
    from app.models.fieldwork import Fieldwork

    engine = make_engine(url)
    with Session(engine) as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        t0, c0 = time.perf_counter(), time.process_time()
        rows = write_statfile(session, fieldwork, out, file_format="sav")
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    engine.dispose()
    return {"seconds": seconds, "cpu": cpu, "rows": rows}


def measure_bare(size: int, out: Path) -> dict[str, float]:
    import xlsxwriter

    from app.exports.services import WORKBOOK_OPTIONS

    header = POLISH.header(META_COLUMNS)
    for name, kind in variables():
        header.append(name)
        if kind.startswith("select_multiple"):
            header.extend(f"{name}_{c}" for c in TICKS)
    # time spent making the cells, which the export gets from the database (wall, CPU)
    making = making_cpu = 0.0
    t0, c0 = time.perf_counter(), time.process_time()
    book = xlsxwriter.Workbook(str(out), WORKBOOK_OPTIONS)
    date_format = book.add_format({"num_format": "dd.mm.yyyy"})
    sheet = book.add_worksheet(POLISH.sheet("Responses"))
    for col, title in enumerate(header):
        sheet.write_string(0, col, title)
    for n in range(size):
        row = n + 1
        t1, c1 = time.perf_counter(), time.process_time()
        cells = bare_cells(n)
        making += time.perf_counter() - t1
        making_cpu += time.process_time() - c1
        for col, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(row, col, value)
            elif isinstance(value, date):
                sheet.write_datetime(row, col, value, date_format)
            else:
                sheet.write_number(row, col, value)
    contacts_making, contacts_making_cpu = write_bare_contacts(book, size)
    making += contacts_making
    making_cpu += contacts_making_cpu
    book.close()
    return {
        "seconds": time.perf_counter() - t0 - making,
        "cpu": time.process_time() - c0 - making_cpu,
        "rows": size,
        "making": making,
    }


def measure_bare_repeats(size: int, out: Path) -> dict[str, float]:
    """The bare loop for the repeats definition: the same cells on the same two sheets."""
    import xlsxwriter

    from app.exports.services import WORKBOOK_OPTIONS

    header = [*POLISH.header(META_COLUMNS), *(name for name, _ in REPEAT_MAIN), REPEAT_NAME]
    entry_header = POLISH.header(REPEAT_KEY_COLUMNS)
    for name, kind in REPEAT_CHILDREN:
        entry_header.append(name)
        if kind.startswith("select_multiple"):
            entry_header.extend(f"{name}_{c}" for c in TICKS)
    making = making_cpu = 0.0
    t0, c0 = time.perf_counter(), time.process_time()
    book = xlsxwriter.Workbook(str(out), WORKBOOK_OPTIONS)
    date_format = book.add_format({"num_format": "dd.mm.yyyy"})
    sheet = book.add_worksheet(POLISH.sheet("Responses"))
    entries_sheet = book.add_worksheet("Podmiot")
    for target, titles in ((sheet, header), (entries_sheet, entry_header)):
        for col, title in enumerate(titles):
            target.write_string(0, col, title)

    def write(target: Any, row: int, cells: list[Any]) -> None:
        for col, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, str):
                target.write_string(row, col, value)
            elif isinstance(value, date):
                target.write_datetime(row, col, value, date_format)
            else:
                target.write_number(row, col, value)

    entry_row = 0
    for n in range(size):
        t1, c1 = time.perf_counter(), time.process_time()
        cells, entries = bare_repeat_cells(n)
        making += time.perf_counter() - t1
        making_cpu += time.process_time() - c1
        for entry in entries:
            entry_row += 1
            write(entries_sheet, entry_row, entry)
        write(sheet, n + 1, cells)
    contacts_making, contacts_making_cpu = write_bare_contacts(book, size)
    making += contacts_making
    making_cpu += contacts_making_cpu
    book.close()
    return {
        "seconds": time.perf_counter() - t0 - making,
        "cpu": time.process_time() - c0 - making_cpu,
        "rows": size,
        "making": making,
    }


def child(kind: str, url: str, fieldwork_id: int, size: int) -> dict[str, float]:
    """Run one measurement in a fresh interpreter; its figures and peak memory."""
    with tempfile.TemporaryDirectory(prefix="ankieta-export-bench-") as directory:
        command = [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--url",
            url,
            "--fieldwork",
            str(fieldwork_id),
            "--size",
            str(size),
            "--out",
            str(Path(directory) / f"{kind}.{'sav' if kind == 'sav' else 'xlsx'}"),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{kind} child failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def load_average() -> str:
    """The machine's load average (1, 5, 15 minutes), to print beside a measurement."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    ``ru_maxrss`` is not used: Linux carries it over from the parent through fork and exec,
    so every child would report at least the seeding parent's peak. ``VmHWM`` belongs to
    this process's own address space.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(args: argparse.Namespace) -> None:
    out = Path(args.out)
    if args.child in ("real", "real_repeats"):
        figures = measure_real(args.url, args.fieldwork, out)
    elif args.child == "sav":
        figures = measure_sav(args.url, args.fieldwork, out)
    elif args.child == "bare_repeats":
        figures = measure_bare_repeats(args.size, out)
    else:
        figures = measure_bare(args.size, out)
    figures["maxrss_mb"] = peak_rss_mb()
    figures["file_mb"] = out.stat().st_size / 2**20
    print(json.dumps(figures))


# --- the run --------------------------------------------------------------------------------------


def measure_repeats(url: str, sizes: list[int], runs: int) -> bool:
    """The repeats definition's export against its bare loop; True when the targets hold."""
    ok = True
    print(
        f"with repeats: {len(REPEAT_MAIN)} questions and a list of {len(REPEAT_CHILDREN)} "
        f"variables, {INSTANCES} entries per response"
    )
    fieldworks = seed(url, sizes, repeats=True)
    peaks: dict[int, float] = {}
    for size in sizes:
        ratios = []
        for n in range(runs):
            before = load_average()
            real = child("real_repeats", url, fieldworks[size], size)
            bare = child("bare_repeats", url, fieldworks[size], size)
            assert real["rows"] == size, real
            ratio = real["cpu"] / bare["cpu"]
            ratios.append(ratio)
            peaks[size] = max(peaks.get(size, 0.0), real["maxrss_mb"])
            print(
                f"{size:>7} responses x {INSTANCES} entries, run {n + 1}: export "
                f"{real['cpu']:.1f} s CPU, {real['seconds']:.1f} s wall (peak "
                f"{real['maxrss_mb']:.0f} MB, {real['file_mb']:.1f} MB file) | bare XlsxWriter "
                f"{bare['cpu']:.1f} s CPU, {bare['seconds']:.1f} s wall (peak "
                f"{bare['maxrss_mb']:.0f} MB) | ratio CPU {ratio:.2f} (target <= "
                f"{TARGET_RATIO}), wall {real['seconds'] / bare['seconds']:.2f} "
                f"| load average {before}",
                flush=True,
            )
            ok &= real["maxrss_mb"] < TARGET_MB
        print(
            f"{size:>7} responses x {INSTANCES} entries: CPU ratio min {min(ratios):.2f}, "
            f"median {statistics.median(ratios):.2f} ({len(ratios)} runs)",
            flush=True,
        )
        ok &= statistics.median(ratios) <= TARGET_RATIO
    if len(peaks) > 1:
        small, large = min(peaks), max(peaks)
        growth = peaks[large] / peaks[small] - 1
        print(
            f"with repeats, peak memory {large} vs {small}: {peaks[large]:.0f} MB vs "
            f"{peaks[small]:.0f} MB ({growth:+.0%}, target <= +{TARGET_GROWTH:.0%})"
        )
        ok &= growth <= TARGET_GROWTH
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each size (in turn)")
    parser.add_argument(
        "--repeat-sizes",
        type=int,
        nargs="*",
        default=[10_000],
        help="responses (each with 5 entries of a list) for the repeats measurement",
    )
    parser.add_argument("--no-sav", action="store_true", help="leave out the .sav export's timing")
    parser.add_argument(
        "--child",
        choices=["real", "bare", "sav", "real_repeats", "bare_repeats"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--fieldwork", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return 0

    from bench._server import scratch_database

    ok = True
    peaks: dict[int, float] = {}
    columns = len(META_COLUMNS) + len(variables()) + MULTIPLES * len(TICKS)
    print(f"questionnaire: {len(variables())} variables, {columns} columns; {args.backend}")
    with scratch_database(args.backend) as url:
        fieldworks = seed(url, args.sizes)
        for size in args.sizes:
            ratios, wall_ratios, real_s, bare_s, loads = [], [], [], [], []
            for n in range(args.repeat):  # real and bare in turn: one load moment for both
                before = load_average()
                loads.append(before)
                real = child("real", url, fieldworks[size], size)
                bare = child("bare", url, fieldworks[size], size)
                assert real["rows"] == size, real
                ratio = real["cpu"] / bare["cpu"]
                ratios.append(ratio)
                wall_ratios.append(real["seconds"] / bare["seconds"])
                real_s.append(real["cpu"])
                bare_s.append(bare["cpu"])
                peaks[size] = max(peaks.get(size, 0.0), real["maxrss_mb"])
                print(
                    f"{size:>7} responses, run {n + 1}: export {real['cpu']:.1f} s CPU, "
                    f"{real['seconds']:.1f} s wall ({size / real['seconds']:.0f} rows/s, peak "
                    f"{real['maxrss_mb']:.0f} MB, {real['file_mb']:.1f} MB file) | bare "
                    f"XlsxWriter {bare['cpu']:.1f} s CPU, {bare['seconds']:.1f} s wall (peak "
                    f"{bare['maxrss_mb']:.0f} MB) | ratio CPU {ratio:.2f} (target <= "
                    f"{TARGET_RATIO}), wall {wall_ratios[-1]:.2f} | load average {before}",
                    flush=True,
                )
                if args.no_sav:
                    continue
                sav = child("sav", url, fieldworks[size], size)
                assert sav["rows"] == size, sav
                print(
                    f"{size:>7} responses, run {n + 1}: .sav export {sav['seconds']:.1f} s "
                    f"({size / sav['seconds']:.0f} rows/s, peak {sav['maxrss_mb']:.0f} MB, "
                    f"{sav['file_mb']:.1f} MB file) | .xlsx export {real['seconds']:.1f} s "
                    f"| .sav/.xlsx {sav['seconds'] / real['seconds']:.2f}",
                    flush=True,
                )
                ok &= real["maxrss_mb"] < TARGET_MB
            print(
                f"{size:>7} responses, CPU time: export min {min(real_s):.1f} s, median "
                f"{statistics.median(real_s):.1f} s; bare min {min(bare_s):.1f} s, median "
                f"{statistics.median(bare_s):.1f} s; ratio min {min(ratios):.2f}, median "
                f"{statistics.median(ratios):.2f} (wall-clock ratio min "
                f"{min(wall_ratios):.2f}, median {statistics.median(wall_ratios):.2f}; "
                f"{len(ratios)} runs; load average {' / '.join(loads)})",
                flush=True,
            )
            ok &= statistics.median(ratios) <= TARGET_RATIO
        if args.repeat_sizes:
            ok &= measure_repeats(url, args.repeat_sizes, args.repeat)
    if len(peaks) > 1:
        small, large = min(peaks), max(peaks)
        growth = peaks[large] / peaks[small] - 1
        print(
            f"peak memory {large} vs {small}: {peaks[large]:.0f} MB vs {peaks[small]:.0f} MB "
            f"({growth:+.0%}, target <= +{TARGET_GROWTH:.0%})"
        )
        ok &= growth <= TARGET_GROWTH
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
