"""Memory of a labels layer's undo history over many large edits: napari's 100 steps
whatever their size (before) against the byte budget (``plugins/undo_budget``).

    python benchmarks/bench_undo_memory.py [--edits 60] [--budgets unlimited 512 256] [--write]

The labels are the bundled ``nuclei3d`` sample (60 x 256 x 256) thresholded into objects,
uint32 (15 MiB). Each edit renumbers every object, as Relabel 1..N after merges or a
prediction applied as an edit does, through the same calls as ``NapariHost.apply_label_edit``
(one ``data_setitem`` in ``block_history``) on a napari Labels layer watched by the app's
``HistoryWatcher`` with the given budget ("unlimited": no budget, napari's count limit only,
i.e. the old behaviour). Each budget runs in a fresh process: RSS (``VmRSS``) after every
edit over the RSS before the first, the peak (``VmHWM``), the history's bytes, the steps
kept, the time per edit, and a check that undoing every kept step and redoing them all
gives back exactly the stacks they should.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from results_file import write_result

CHILD = r"""
import hashlib, json, sys, time
import numpy as np, tifffile
from napari.layers import Labels
from scipy import ndimage as ndi
from unet_studio.plugins.napari_history import HistoryWatcher
from unet_studio.plugins.undo_budget import history_nbytes, napari_undo_stack
sample, edits, budget = sys.argv[1], int(sys.argv[2]), sys.argv[3]
max_bytes = None if budget == "unlimited" else int(float(budget) * 2**20)

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

image = tifffile.imread(sample)
labels, count = ndi.label(image > np.percentile(image, 75))
layer = Labels(labels.astype(np.uint32))
watcher = HistoryWatcher(layer, lambda edit, kind: None, max_bytes=max_bytes)
watcher.muted = True  # as the host applying its own edits
digest = lambda: hashlib.sha1(np.ascontiguousarray(layer.data)).hexdigest()
rng = np.random.default_rng(0)
states, rss, seconds = [digest()], [], []
before = status("VmRSS")
for _ in range(edits):
    ids = np.concatenate([[0], rng.permutation(count) + 1]).astype(np.uint32)
    renumbered = ids[layer.data]
    indices = np.nonzero(renumbered != layer.data)
    values = renumbered[indices]
    del renumbered
    start = time.perf_counter()
    with layer.block_history():
        layer.data_setitem(indices, values)
    seconds.append(time.perf_counter() - start)
    del indices, values
    states.append(digest())
    rss.append(status("VmRSS") - before)
kept = len(napari_undo_stack(layer))
history = history_nbytes(layer)
step = history / kept
exact = True
for k in range(1, kept + 1):
    layer.undo()
    exact &= digest() == states[-1 - k]
layer.undo()  # nothing older is kept: nothing changes
exact &= digest() == states[-1 - kept]
for k in range(kept):
    layer.redo()
exact &= digest() == states[-1]
print(json.dumps({"rss": rss, "peak": status("VmHWM") - before, "kept": kept,
                  "history_mib": history / 2**20, "step_mib": step / 2**20,
                  "changed": int(step // 32), "pixels": int(labels.size),
                  "stack_mib": layer.data.nbytes / 2**20,
                  "ms": 1e3 * float(np.median(seconds)), "exact": bool(exact)}))
"""

NOTES = """\
RSS growth is over the process's RSS before the first edit (the stack, napari, numpy loaded).
Without a budget it grows by one step per edit until napari's 100 steps (~3 GiB at 100
edits of this stack); with one it stops growing once the budget is full. What RSS holds
beyond the history is the edit's own transient arrays (the renumbered stack, the indices)
and memory the allocator keeps for reuse. The default budget is 512 MiB per labels layer
(or 1/8 of the physical memory where less); ``UNET_STUDIO_UNDO_MIB`` or ``undo_history_mib``
in ``settings.json`` change it. "ms per edit" is the ``data_setitem`` call with the budget's
bookkeeping (the run-to-run spread on this shared machine is larger than any difference).
Machine: the 2-core CI VM, shared with other jobs while measuring."""

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(edits: int, budget: str) -> dict:
    env = dict(os.environ, QT_API=os.environ.get("QT_API", "pyside6"))
    sample = os.path.join(ROOT, "resources", "samples", "nuclei3d.tif")
    done = subprocess.run([sys.executable, "-c", CHILD, sample, str(edits), budget], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--budgets", nargs="+", default=["unlimited", "512", "256"],
                        help='MiB per layer, or "unlimited" (the old behaviour)')
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    marks = [n for n in (10, 20, 40, 60, 100) if n <= args.edits]
    header = ["| undo budget | steps kept | history | RSS growth after "
              + " / ".join(map(str, marks)) + " edits | peak RSS growth | ms per edit "
              "| undo/redo exact |",
              "|---|---|---|---|---|---|---|"]
    print("\n".join(header), flush=True)
    rows, first = [], None
    for budget in args.budgets:
        result = run(args.edits, budget)
        first = first or result
        name = "none (napari: 100 steps)" if budget == "unlimited" else f"{budget} MiB"
        growth = " / ".join(f"{result['rss'][n - 1]:.0f}" for n in marks)
        rows.append(f"| {name} | {result['kept']} | {result['history_mib']:.0f} MiB "
                    f"| {growth} MiB | {result['peak']:.0f} MiB | {result['ms']:.0f} "
                    f"| {'yes' if result['exact'] else 'NO'} |")
        print(rows[-1], flush=True)
    about = (f"Labels {first['pixels'] / 1e6:.1f} M px uint32 ({first['stack_mib']:.0f} MiB); each "
             f"edit renumbers every object: {first['changed'] / 1e6:.2f} M px changed, "
             f"{first['step_mib']:.1f} MiB of undo step (int64 indices, old and new values).")
    print(about)
    if args.write:
        write_result("undo_memory", "Undo history of large edits: memory",
                     about + "\n\n" + "\n".join(header + rows) + "\n\n" + NOTES)


if __name__ == "__main__":
    main()
