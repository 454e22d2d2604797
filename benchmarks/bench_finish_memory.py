"""Memory of the end of a prediction streamed around reviewed pixels (the Segment panel's
``LiveLabelsDestination.finish``): a 60 x 1024 x 1024 stack's labels, one reviewed plane
whose ids clash with the prediction's. Prints the time and the peak RSS growth (VmHWM,
Linux) of ``finish()``.

    python benchmarks/bench_finish_memory.py
"""
import time

import numpy as np

from unet_studio.app.qt.live_labels import LiveLabelsDestination
from unet_studio.app.reviewed import ReviewedRegions


def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"): return int(line.split()[1]) / 1024
shape = (60, 1024, 1024)
live = np.zeros(shape, np.int32)
regions = ReviewedRegions(shape)
regions.mark_region((slice(30, 31), slice(None), slice(None)))
rng = np.random.default_rng(0)
engine = np.zeros(shape, np.int32)
for z in range(60):
    engine[z] = (np.arange(1024)[:, None] // 64 * 16 + np.arange(1024)[None, :] // 64 + 1)  # 256 ids per plane
live[30] = engine[30] + 3  # the user's ids there: clash with the prediction's
out = LiveLabelsDestination(live, (slice(None),) * 3, regions, 0)
out[...] = engine
del engine
base = hwm(); t = time.perf_counter()
out.finish()
print(f"finish: {time.perf_counter() - t:.2f} s, peak RSS growth {hwm() - base:.0f} MiB (labels {live.nbytes / 2**20:.0f} MiB)")
