"""Peak memory of opening a big uncompressed labels TIFF for correcting (napari's reader
reads labels that fit in memory into RAM): ``np.array`` of the memory map (the reference:
how the reader did it before) against ``app.io.editable``'s copy in slabs.

    python benchmarks/bench_labels_read_memory.py [--mib 300] [--repeats 3] [--write]

A uint16 ZYX stack of about ``--mib`` MiB (speckled class values, as an undertrained
semantic model writes) is written uncompressed with tifffile. Each variant reads it in a
fresh process: peak resident memory growth over the process after imports (``VmHWM``, of
that process only; Linux), and the seconds the read took; medians over ``--repeats`` runs,
alternating. The copy is the same array either way (checked). ``--write`` puts the table
into ``benchmarks/results/labels_read_memory.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = """
import json, sys, time
import numpy as np
import tifffile
from unet_studio.app.io.editable import editable_labels
def high_water():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
path, variant = sys.argv[1], sys.argv[2]
mapped = tifffile.memmap(path, mode="r")
mapped.flags.writeable  # (touch: nothing read yet)
open("/proc/self/clear_refs", "w").write("5")  # (the peak so far: imports only)
base, started = high_water(), time.perf_counter()
if variant == "np.array":
    data = np.array(mapped)
else:
    data = editable_labels(mapped, path).data
seconds = time.perf_counter() - started
print(json.dumps({"peak_mib": high_water() - base, "seconds": seconds,
                  "checksum": int(data[::7, ::5, ::3].astype(np.int64).sum())}))
"""


def run(path: Path, variant: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), variant], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    import tifffile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    planes = max(1, args.mib * 2**20 // (2048 * 2048 * 2))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "classes.tif"
        rng = np.random.default_rng(0)
        with tifffile.TiffWriter(path) as tif:
            for _ in range(planes):  # (a plane at a time: the script itself stays small)
                tif.write(rng.integers(0, 4, (2048, 2048), np.uint16), contiguous=True,
                          metadata={"axes": "ZYX"})
        size = path.stat().st_size / 2**20
        results = {"np.array": [], "slabs": []}
        for _ in range(args.repeats):
            for variant in results:
                results[variant].append(run(path, variant))
    checks = {r["checksum"] for rows in results.values() for r in rows}
    assert len(checks) == 1, "the variants read different pixels"
    median = {v: {k: statistics.median(r[k] for r in rows) for k in ("peak_mib", "seconds")}
              for v, rows in results.items()}
    ref, ours = median["np.array"], median["slabs"]
    table = (f"File: {planes} x 2048 x 2048 uint16, {size:.0f} MiB uncompressed; medians of "
             f"{args.repeats} runs, each in a fresh process.\n\n"
             "| variant | peak RSS growth MiB | read s |\n|---|---|---|\n"
             f"| np.array of the memory map (before) | {ref['peak_mib']:.0f} | {ref['seconds']:.2f} |\n"
             f"| copy in slabs (app/io/editable.py) | {ours['peak_mib']:.0f} | {ours['seconds']:.2f} |\n"
             f"| ratio ours / before | {ours['peak_mib'] / ref['peak_mib']:.2f} | "
             f"{ours['seconds'] / ref['seconds']:.2f} |\n")
    print(table)
    if args.write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from results_file import write_result

        write_result("labels_read_memory", "Opening a big labels TIFF for correcting: peak memory",
                     table)


if __name__ == "__main__":
    main()
