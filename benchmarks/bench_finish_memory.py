"""Memory of the end of a prediction streamed around reviewed pixels (the Segment panel's
``LiveLabelsDestination.finish``): a 60 x 1024 x 1024 stack's labels, one reviewed plane
whose ids clash with the prediction's. Prints the time and the peak RSS growth (VmHWM,
Linux) of ``finish()``.

    python benchmarks/bench_finish_memory.py
"""

from __future__ import annotations

import time

import numpy as np

from unet_studio.app.qt.live_labels import LiveLabelsDestination
from unet_studio.app.reviewed import ReviewedRegions

SHAPE = (60, 1024, 1024)


def high_water_mib() -> float:
    """VmHWM: the peak resident memory of this process so far."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def main() -> None:
    live = np.zeros(SHAPE, np.int32)
    regions = ReviewedRegions(SHAPE)
    regions.mark_region((slice(30, 31), slice(None), slice(None)))
    rows, columns = np.indices(SHAPE[1:])
    plane = (rows // 64 * 16 + columns // 64 + 1).astype(np.int32)  # 256 objects per plane
    live[30] = plane + 3  # the user's ids there, clashing with the prediction's
    out = LiveLabelsDestination(live, (slice(None),) * 3, regions, 0)
    for z in range(SHAPE[0]):
        out[z:z + 1] = plane[None]
    base, start = high_water_mib(), time.perf_counter()
    out.finish()
    print(f"finish: {time.perf_counter() - start:.2f} s, peak RSS growth "
          f"{high_water_mib() - base:.0f} MiB (labels {live.nbytes / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
