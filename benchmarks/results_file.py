"""Writing a benchmark's table to ``benchmarks/results/<topic>.md`` (``--write``), with the
command that made it; ``collect_results.py`` assembles those files into BENCHMARKS.md.
Imported by the scripts next to it (run as ``python benchmarks/bench_*.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write_result(topic: str, heading: str, body: str) -> Path:
    """``## heading``, the command line of this run, then ``body``, into ``<topic>.md``."""
    command = f"python benchmarks/{Path(sys.argv[0]).name} " + " ".join(sys.argv[1:])
    out = RESULTS / f"{topic}.md"
    out.write_text(f"## {heading}\n\nCommand: `{command.strip()}`\n\n{body.rstrip()}\n", "utf-8")
    print(f"written to {out}")
    return out
