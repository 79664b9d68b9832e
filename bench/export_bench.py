"""The cost of exporting: minutes of 50 pages and a meeting pack of 200 pages, through the real renderers
and end to end through the real export routes.

    .venv/bin/python bench/export_bench.py [--runs N] [--minutes-pages P] [--pack-pages P]
        [--database sqlite|postgresql://…] [--profile] [--no-renderers] [--no-end-to-end] [--keep]

Renderers only:

The documents are synthetic but shaped like the real ones: Japanese text in portions with headings and
portion marks, some portions withheld (the notice), a banner and a watermark on every page. The number of
portions is calibrated so that the PDF has the number of pages asked for (the DOCX holds the same text; a
word processor lays it out into about as many pages). Each (document, format) is rendered once to warm up
(imports, font registration), then ``--runs`` times; the median and the spread are reported. Peak memory is
measured in a fresh subprocess per (document, format): Python's allocations (tracemalloc's peak during the
render) and the process's resident set before the render and at its peak during it (VmHWM, reset just
before the render).

End to end (``export_e2e.py``, on data built through the services by ``export_data.py``): the export routes
over HTTP (gunicorn, one sync worker) for a signed-in reader with parts withheld, PDF and DOCX; the
worker's memory; the steps of a request timed in process; with ``--profile``, cProfile of each request.
``--database``: ``sqlite`` (a temporary file, the default) or a PostgreSQL server's URL (a new database
there, dropped afterwards unless ``--keep``).

Prints Markdown tables and writes the figures to bench/results/exports-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH.parent
if str(PROJECT_ROOT) not in sys.path:  # `python bench/export_bench.py` puts only bench/ on the path
    sys.path.insert(0, str(PROJECT_ROOT))

from portal.enums import GOV_ONLY_CODE, Level, ReleaseMarking  # noqa: E402
from portal.exports.document import ExportDocument, ExportPart, ExportReader, ExportSection  # noqa: E402
from portal.exports.docx import render_docx  # noqa: E402
from portal.exports.markdown import render_markdown  # noqa: E402
from portal.exports.pdf import render_pdf  # noqa: E402

RESULTS = BENCH / "results"
TARGET_SECONDS = {"minutes": 2.0, "pack": 5.0}
RENDERERS: dict[str, Callable[[ExportDocument], bytes]] = {
    "pdf": render_pdf,
    "docx": render_docx,
    "md": render_markdown,
}

SENTENCES = (
    "ガリウム及びゲルマニウムの輸出許可制の導入を受け、国内需要家の在庫水準と代替調達先の確保状況を確認した。",
    "経済産業省より、重要鉱物の安定供給確保に向けた備蓄制度の運用状況について説明があった。",
    "民間委員から、精錬工程の海外依存度が高く、短期的な代替は困難であるとの指摘があった。",
    "事務局は、次回会合までに需給見通しを更新し、影響の大きい品目を特定することとした。",
    "リサイクル由来の原料確保について、技術的課題と費用負担の在り方を議論した。",
    "同盟国・同志国との連携による供給網の多角化について、具体的な協力案件の進捗が報告された。",
    "半導体製造装置向けの高純度材料について、2027年度までの調達計画(約120トン)の妥当性を検証した。",
    "JOGMECによる出資・債務保証の対象案件について、審査状況と今後のスケジュールが共有された。",
    "委員長より、情報の取扱いに留意しつつ、関係企業への周知を速やかに行うよう指示があった。",
    "輸出管理の運用変更が国内のサプライチェーンに与える影響について、業界団体の調査結果が報告された。",
)
HEADINGS = (
    "需給見通し",
    "代替調達先の検討",
    "備蓄放出の判断基準",
    "リサイクル原料",
    "同志国との連携",
    "業界への周知",
    "技術開発支援",
    "今後の進め方",
)
LEVELS = (Level.RESTRICTED, Level.RESTRICTED, Level.CONFIDENTIAL, Level.PUBLIC, Level.RESTRICTED, Level.CESI)


def portion_text(number: int, sentences: int) -> str:
    paragraphs, current = [], []
    for index in range(sentences):
        current.append(f"({index + 1}){SENTENCES[(number * 7 + index) % len(SENTENCES)]}")
        if len(current) == 4:
            paragraphs.append("".join(current))
            current = []
    if current:
        paragraphs.append("".join(current))
    return "\n\n".join(paragraphs)


def portion(number: int, sentences: int, withheld_every: int) -> ExportPart:
    if withheld_every and number % withheld_every == withheld_every - 1:
        return ExportPart.withheld_part()
    level = LEVELS[number % len(LEVELS)]
    caveats = frozenset({GOV_ONLY_CODE}) if number % 9 == 4 else frozenset()
    release = ReleaseMarking.AMBER if number % 11 == 5 else ReleaseMarking.GREEN
    heading = f"{number + 1}. {HEADINGS[number % len(HEADINGS)]}"
    return ExportPart(heading, portion_text(number, sentences), level, caveats, release)


def minutes(portions: int) -> ExportDocument:
    """Minutes: sections of portions of 6–12 sentences; one portion in eight withheld."""
    parts = [portion(number, 6 + number % 7, withheld_every=8) for number in range(portions)]
    sections = [
        ExportSection(f"議事 {index // 10 + 1}", parts[index : index + 10])
        for index in range(0, portions, 10)
    ]
    return _document("第5回 重要鉱物分科会 議事録", "議事録(承認版)", sections)


def pack(portions: int) -> ExportDocument:
    """A meeting pack: the agenda (short items), findings, then the linked documents' long texts."""
    agenda = [portion(number, 2, withheld_every=6) for number in range(min(portions, 12))]
    findings = [portion(number + 100, 4, withheld_every=5) for number in range(min(portions, 10))]
    documents = [portion(number + 200, 18 + number % 9, withheld_every=10) for number in range(portions)]
    sections = [ExportSection("議事次第", agenda), ExportSection("所見・結論", findings)]
    sections += [
        ExportSection(f"資料 {index // 6 + 1}", documents[index : index + 6])
        for index in range(0, portions, 6)
    ]
    return _document("第5回 重要鉱物分科会 会議資料一式", "議事次第・所見・資料", sections)


def _document(title: str, subtitle: str, sections: list[ExportSection]) -> ExportDocument:
    return ExportDocument(
        title=title,
        subtitle=subtitle,
        meeting_name="第5回 重要鉱物分科会(ガリウム・ゲルマニウム輸出管理への対応)",
        room_name="重要鉱物分科会",
        reader=ExportReader(uuid.uuid4(), "田中 浩", "経済産業省", uuid.uuid4()),
        created_at=datetime.now(UTC),
        sections=sections,
        title_level=Level.RESTRICTED,
    )


BUILDERS: dict[str, Callable[[int], ExportDocument]] = {"minutes": minutes, "pack": pack}


def pdf_pages(content: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", content))


def calibrate(kind: str, pages: int) -> int:
    """The smallest number of portions (near enough) whose PDF has at least ``pages`` pages."""
    portions = max(4, pages)
    for _attempt in range(4):
        got = pdf_pages(render_pdf(BUILDERS[kind](portions)))
        if pages <= got <= pages + max(1, pages // 100):
            return portions
        portions = max(1, round(portions * pages / max(got, 1)))
    while pdf_pages(render_pdf(BUILDERS[kind](portions))) < pages:
        portions += 1
    return portions


def time_renders(document: ExportDocument, file_format: str, runs: int) -> list[float]:
    render = RENDERERS[file_format]
    render(document)  # warm-up
    seconds = []
    for _run in range(runs):
        started = time.perf_counter()
        render(document)
        seconds.append(time.perf_counter() - started)
    return seconds


def current_rss_kib() -> int:
    """The resident set now (ru_maxrss is a high-water mark since the process began)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets the process's peak resident set (VmHWM) to the current one."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory_child(kind: str, portions: int, file_format: str) -> None:
    """In a fresh process: build the document, then render once under tracemalloc."""
    document = BUILDERS[kind](portions)
    RENDERERS[file_format](BUILDERS[kind](2))  # imports and font registration, outside the measure
    before = current_rss_kib()
    reset_peak_rss()
    tracemalloc.start()
    content = RENDERERS[file_format](document)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = peak_rss_kib()
    print(
        json.dumps(
            {
                "tracemalloc_peak": peak,
                "rss_before_kib": before,
                "peak_rss_kib": after,
                "bytes": len(content),
            }
        )
    )


def measure_memory(kind: str, portions: int, file_format: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, "--memory-child", kind, str(portions), file_format],
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
    }


def measure_renderers(arguments: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for kind, pages in (("minutes", arguments.minutes_pages), ("pack", arguments.pack_pages)):
        portions = calibrate(kind, pages)
        document = BUILDERS[kind](portions)
        actual_pages = pdf_pages(render_pdf(document))
        characters = sum(len(part.body) for part in document.parts)
        for file_format in RENDERERS:
            seconds = time_renders(document, file_format, arguments.runs)
            memory = measure_memory(kind, portions, file_format)
            rows.append(
                {
                    "document": kind,
                    "format": file_format,
                    "pdf_pages": actual_pages,
                    "portions": portions,
                    "withheld": document.withheld_count,
                    "characters": characters,
                    "median_s": statistics.median(seconds),
                    "min_s": min(seconds),
                    "max_s": max(seconds),
                    "runs": seconds,
                    "target_s": TARGET_SECONDS[kind],
                    "bytes": memory["bytes"],
                    "tracemalloc_peak_mib": memory["tracemalloc_peak"] / 2**20,
                    "rss_before_mib": memory["rss_before_kib"] / 1024,
                    "peak_rss_mib": memory["peak_rss_kib"] / 1024,
                }
            )
            progress(f"{kind} {file_format}: median {statistics.median(seconds):.3f} s")
    return rows


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def met(seconds: float, target: float) -> str:
    return f"< {target:.0f} s {'met' if seconds < target else '**missed**'}"


def print_renderers(rows: list[dict[str, Any]]) -> None:
    print("\nRenderers only\n")
    print(
        "| document | format | pages (PDF) | portions (withheld) | median s | min–max s | target | file "
        "| Python peak | RSS before → peak |"
    )
    print("|---|---|---:|---:|---:|---:|---|---:|---:|---|")
    for row in rows:
        cells = [
            row["document"],
            row["format"],
            str(row["pdf_pages"]),
            f"{row['portions']} ({row['withheld']})",
            f"{row['median_s']:.3f}",
            f"{row['min_s']:.3f}–{row['max_s']:.3f}",
            met(row["median_s"], row["target_s"]),
            f"{row['bytes'] / 1024:,.0f} KiB",
            f"{row['tracemalloc_peak_mib']:.1f} MiB",
            f"{row['rss_before_mib']:.0f} → {row['peak_rss_mib']:.0f} MiB",
        ]
        print("| " + " | ".join(cells) + " |")


def print_end_to_end(result: dict[str, Any], asked_pages: dict[str, int]) -> None:
    idle = result["http"][0]["worker_rss_signed_in_mib"]
    print(
        f"\nEnd to end over HTTP ({result['database']}, gunicorn, 1 sync worker of {idle:.0f} MiB after the "
        f"sign-in; reader {result['reader']})\n"
    )
    print(
        "| document | format | pages (PDF) | parts included (withheld) | first request s | median s "
        "| min–max s | target | file | worker RSS before → highest peak | largest rise in one request |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---|---:|")
    for row in result["http"]:
        pages = row["pdf_pages"]
        short = pages is not None and pages < asked_pages[row["document"]]
        cells = [
            row["document"],
            row["format"],
            "—" if pages is None else f"{pages}{' (short!)' if short else ''}",
            f"{row['included_parts']} ({row['withheld_parts']})",
            f"{row['first_s']:.3f}",
            f"{row['median_s']:.3f}",
            f"{row['min_s']:.3f}–{row['max_s']:.3f}",
            met(row["median_s"], row["target_s"]),
            f"{row['bytes'] / 1024:,.0f} KiB",
            f"{row['worker_rss_before_mib']:.0f} → {row['worker_peak_rss_mib']:.0f} MiB",
            f"{row['worker_peak_growth_mib']:.1f} MiB",
        ]
        print("| " + " | ".join(cells) + " |")
    steps = [*result["steps"], "rest"]
    print("\nThe same requests in process (Flask test client), median seconds of each step\n")
    print("| document | format | total | " + " | ".join(steps) + " | audit entries |")
    print("|---|---|" + "---:|" * (len(steps) + 2))
    for row in result["in_process"]:
        cells = [row["document"], row["format"], f"{row['total_s']:.3f}"]
        cells += [f"{row[name]:.3f}" for name in steps]
        cells.append(f"{row['audit_entries_per_export']:.0f}")
        print("| " + " | ".join(cells) + " |")
    for row in result["in_process"]:
        if "profile" in row:
            print(f"profile of {row['document']} {row['format']}: {row['profile']['file']}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--minutes-pages", type=int, default=50)
    parser.add_argument("--pack-pages", type=int, default=200)
    parser.add_argument("--database", default="sqlite", help="sqlite, or a PostgreSQL server URL")
    parser.add_argument("--profile", action="store_true", help="cProfile each end-to-end request once")
    parser.add_argument("--no-renderers", action="store_true")
    parser.add_argument("--no-end-to-end", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and database")
    parser.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.memory_child:
        kind, portions, file_format = arguments.memory_child
        memory_child(kind, int(portions), file_format)
        return 0

    started_at = datetime.now(UTC)
    figures: dict[str, Any] = {"started_at": started_at.isoformat(), "machine": machine()}
    RESULTS.mkdir(exist_ok=True)
    if not arguments.no_renderers:
        figures["rows"] = measure_renderers(arguments)
    if not arguments.no_end_to_end:
        # Imported here: the renderers' memory children stay as small as before (no app, no database).
        import export_data
        import export_e2e

        profile_to = RESULTS / f"exports-{started_at:%Y%m%dT%H%M%S}" if arguments.profile else None
        figures["end_to_end"] = export_e2e.run(
            arguments.database, arguments.runs, export_data.Sizes(), profile_to, progress, arguments.keep
        )
    figures["load_average_at_end"] = os.getloadavg()

    load = figures["machine"]["load_average"][0]
    print(
        f"\nExports, {started_at:%Y-%m-%d %H:%M} UTC, {figures['machine']['cores']} cores, "
        f"load {load:.1f} at the start"
    )
    if "rows" in figures:
        print_renderers(figures["rows"])
    if "end_to_end" in figures:
        asked = {"minutes": arguments.minutes_pages, "pack": arguments.pack_pages}
        print_end_to_end(figures["end_to_end"], asked)
    output = RESULTS / f"exports-{started_at:%Y%m%dT%H%M%S}.json"
    output.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    print(f"\nfigures: {output.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
