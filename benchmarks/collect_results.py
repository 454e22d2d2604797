"""Assemble BENCHMARKS.md from the per-topic result files each benchmark writes.

Every ``bench_*.py`` writes ``benchmarks/results/<topic>.md`` with its figures and the exact
command that produced them; this script concatenates them in reading order, so the figures
in BENCHMARKS.md are always the last measured ones. Run: ``python benchmarks/collect_results.py``.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
ORDER = ["tiling", "labels_memory", "gui_memory", "accuracy", "default_model", "finetune", "correction_loop", "round_stability", "polarity", "gui_loop", "gui", "io",
         "project", "models", "undo_memory", "stack_edits",
         "edit_latency"]

HEADER = """# Benchmarks

Measured figures with the commands that produced them. Each section is written by one script
in `benchmarks/` into `benchmarks/results/<topic>.md`; `python benchmarks/collect_results.py`
assembles this page. Unless a section says otherwise the machine is the 2-core x86-64 CPU VM
of our CI (torch 2.13.0 CPU build). In sessions 1 and 2 it was shared with other jobs while
measuring (absolute times pessimistic); session 3's figures were taken on a mostly quiet
machine, and each section states its load. Ratios are always measured within one run. No
GPU was available when these were taken: the CUDA path (bf16 autocast, OOM back-off, pinned
transfers) is implemented and covered by CPU tests, and its GPU figures are still to be
measured.
"""


def main() -> None:
    topics = ORDER + sorted(p.stem for p in RESULTS.glob("*.md") if p.stem not in ORDER)
    parts = [HEADER]
    for topic in topics:
        path = RESULTS / f"{topic}.md"
        if path.exists():
            # Every heading goes one level down, under this page's title.
            lines = path.read_text(encoding="utf-8").strip().splitlines()
            parts.append("\n".join("#" + line if line.startswith("#") else line
                                   for line in lines))
    (ROOT / "BENCHMARKS.md").write_text("\n\n".join(parts) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
