"""What a Segment run reads and writes of a big stack's labels that are mostly holes: the
largest id outside the plane segmented, and a whole-stack run's backup and cancel.

    python benchmarks/bench_sparse_labels.py [--gib 2] [--repeats 3] [--write]

The labels are an int32 ZYX scratch array of about ``--gib`` GiB made as the app makes a
stack's labels (``models.scratch.scratch_zeros``: a temporary file, its space reserved, all
holes; above 64 MiB an array goes to a file here, as a 20 GB stack's does), with objects
in 2 planes (as after a "Segment current slice"). In a fresh process per variant and
repeat, and with new labels for each scenario (pages one step read would be in the page
cache for the next, and count as data), three steps, each timed, with the growth of the
process's peak resident memory (``VmHWM``: mapped file pages count, as in the QA report):

- *largest id outside a plane*: ``iter_largest_outside`` for "Segment current slice";
- *whole-stack prepare*: ``LiveLabelsDestination(..., reserve_backup=True)`` and its
  ``iter_prepare`` (backup space reserved, the region copied unless empty);
- *cancel after 2 planes*: the run writes 2 planes of new labels, then ``restore()``.

"before" sets ``UNET_STUDIO_HOLE_CHECK=0`` (no hole is trusted: every slab read, the backup
reserved) and notes every plane as written before the cancel (the whole region put back, as
before); "after" is the code as it is. The labels must equal those before the run after the
cancel (checked). ``--write`` puts the table into ``benchmarks/results/sparse_labels.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = """
import json, os, sys, time
import numpy as np
from unet_studio.app.qt.live_labels import LiveLabelsDestination
from unet_studio.app.qt.live_prepare import iter_largest_outside
from unet_studio.models.generators import drain
from unet_studio.models.scratch import scratch_zeros

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

def measured(step):
    open("/proc/self/clear_refs", "w").write("5")  # (peak reset to the memory now)
    base, started = status("VmRSS"), time.perf_counter()
    result = step()
    return result, time.perf_counter() - started, status("VmHWM") - base

def made_labels():
    labels = scratch_zeros((planes, 2048, 2048), np.int32)
    assert isinstance(labels, np.memmap), "the labels must live in a file"
    labels[planes // 3, 100:300, 100:300] = 7  # objects of 2 planes (a single plane run)
    labels[planes // 3 + 1, 500:700, 500:700] = 8
    return labels

planes, before = int(sys.argv[1]), sys.argv[2] == "before"
labels = made_labels()
plane = (slice(planes // 2, planes // 2 + 1), slice(None), slice(None))
largest, largest_s, largest_mib = measured(lambda: drain(iter_largest_outside(labels, plane)))
assert largest == 8

del labels  # (its file goes; new labels for the whole-stack run)
labels = made_labels()
everything = (slice(None),) * 3
kept = np.array(labels[planes // 3:planes // 3 + 2])
def prepare():
    out = LiveLabelsDestination(labels, everything, id_offset=0, reserve_backup=True)
    drain(out.iter_prepare())
    return out
out, prepare_s, prepare_mib = measured(prepare)
new = np.zeros((2048, 2048), np.int32)
new[1000:1100, 1000:1100] = 1
out[(0, Ellipsis)] = new  # the run's first 2 planes
out[(1, Ellipsis)] = new
if before:
    out.written_planes.note_everything()  # (all of the region put back, as before)
_, restore_s, restore_mib = measured(out.restore)
assert not labels[0].any() and not labels[1].any()
assert (labels[planes // 3:planes // 3 + 2] == kept).all()
print(json.dumps({"largest_s": largest_s, "largest_mib": largest_mib, "prepare_s": prepare_s,
                  "prepare_mib": prepare_mib, "restore_s": restore_s,
                  "restore_mib": restore_mib}))
"""

STEPS = [("largest id outside a plane", "largest"), ("whole-stack prepare (reserve + backup)",
         "prepare"), ("cancel after 2 planes (restore)", "restore")]


def file_system() -> str:
    from unet_studio.models.scratch import file_system_type, scratch_folder

    return file_system_type(scratch_folder()) or "an unknown file system"


def run(planes: int, variant: str) -> dict:
    env = dict(os.environ, UNET_STUDIO_SCRATCH_RAM_MB="64")  # (files, as for a 20 GB stack)
    if variant == "before":
        env["UNET_STUDIO_HOLE_CHECK"] = "0"
    done = subprocess.run([sys.executable, "-c", CHILD, str(planes), variant],
                          capture_output=True, text=True, env=env)
    if done.returncode:
        raise SystemExit(f"the {variant} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    planes = max(4, int(args.gib * 2**30 // (2048 * 2048 * 4)))
    results = {"before": [], "after": []}
    for _ in range(args.repeats):
        for variant in results:
            results[variant].append(run(planes, variant))
    median = {v: {k: statistics.median(r[k] for r in rows) for k in rows[0]}
              for v, rows in results.items()}
    lines = [f"Labels: {planes} x 2048 x 2048 int32 scratch file "
             f"({planes * 2048 * 2048 * 4 / 2**30:.1f} GiB, space reserved, objects in 2 "
             f"planes); medians of {args.repeats} runs, each in a fresh process with a new "
             "file, alternating. Peak: growth of VmHWM over the step (mapped file pages "
             f"count). Scratch folder on {file_system()} (Linux {os.uname().release}); "
             f"{os.cpu_count()} cores, shared with other jobs while measuring.", "",
             "| step | before s | after s | before peak MiB | after peak MiB |",
             "|---|---|---|---|---|"]
    for title, key in STEPS:
        b, a = median["before"], median["after"]
        lines.append(f"| {title} | {b[key + '_s']:.2f} | {a[key + '_s']:.3f} | "
                     f"{b[key + '_mib']:.0f} | {a[key + '_mib']:.0f} |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from results_file import write_result

        write_result("sparse_labels", "Segment runs over labels that are mostly holes: reads, "
                     "backup and cancel", table)


if __name__ == "__main__":
    main()
