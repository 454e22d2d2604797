"""Peak memory of the app segmenting a whole stack through the Segment panel (real napari
viewer under Xvfb), against the stack's size; optionally against another checkout.

    xvfb-run -a python benchmarks/bench_gui_memory.py [--tiles 2 4] [--reference DIR] [--write]

The stack is the bundled ``nuclei3d`` sample (60 x 256 x 256) tiled ``n`` x ``n`` in Y and X,
written as a TIFF and opened with our reader (lazily, as File > Open does); the bundled
default model (2D) segments all of it into instance labels, with a project open (autosave).
Each run is a fresh process; the figure is its peak RSS (``ru_maxrss``) over its RSS just
before the click on Run, and the growth per pixel between two sizes (what a bigger stack
costs). ``--reference DIR``: a checkout of another commit of this repository, run the same
way (its package first on ``PYTHONPATH``), so that ours and the reference share the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
import numpy as np, psutil, tifffile, napari
from qtpy.QtWidgets import QApplication
from unet_studio.plugins.widgets import session_for
from unet_studio.app.qt.segment_panel import SegmentPanel
path, project = sys.argv[1], sys.argv[2]
viewer = napari.Viewer(show=False)
viewer.open(path, plugin="unet-studio")
session = session_for(viewer)
session.open_project(project, create=True)
panel = SegmentPanel(session)
app = QApplication.instance()
for _ in range(20):
    app.processEvents()
before = psutil.Process().memory_info().rss / 2**20
start = time.perf_counter()
panel.run()
while panel.worker is not None:
    app.processEvents()
    time.sleep(0.02)
session.project.flush()
labels = session.host.current_labels()
print(json.dumps({"seconds": time.perf_counter() - start, "before_mib": before,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "objects": int(labels.max()), "pixels": int(labels.size),
                  "file_backed": type(labels).__name__ == "memmap"}))
"""


def tiled_stack(tiles: int, folder: Path) -> Path:
    import numpy as np
    import tifffile

    path = folder / f"nuclei3d_x{tiles}.tif"
    image = tifffile.imread(ROOT / "resources/samples/nuclei3d.tif")
    tifffile.imwrite(path, np.tile(image, (1, tiles, tiles)), imagej=True, metadata={"axes": "ZYX"})
    return path


def run(stack: Path, folder: Path, package_root: Path | None) -> dict:
    env = dict(os.environ, UNET_STUDIO_HOME=str(folder / "home"), QT_API="pyside6")
    if package_root is not None:  # a checkout: importable as unet_studio through a link
        link = folder / "reference" / "unet_studio"
        link.parent.mkdir(exist_ok=True)
        if not link.exists():
            link.symlink_to(package_root.resolve())
        env["PYTHONPATH"] = str(link.parent)
    project = tempfile.mkdtemp(dir=folder, prefix="project-")
    os.rmdir(project)
    done = subprocess.run([sys.executable, "-c", CHILD, str(stack), project], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--reference", default=None, help="a checkout of another commit")
    parser.add_argument("--folder", default=None)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    versions = [("this checkout", None)]
    if args.reference:
        versions.append((f"reference {args.reference}", Path(args.reference)))
    header = ["| code | stack | seconds | RSS before Run | peak RSS | growth | objects | labels in |",
              "|---|---|---|---|---|---|---|---|"]
    rows, slopes = [], []
    print("\n".join(header), flush=True)
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        folder = Path(folder)
        stacks = {tiles: tiled_stack(tiles, folder) for tiles in args.tiles}
        for name, root in versions:
            points = []
            for tiles, stack in stacks.items():
                result = run(stack, folder, root)
                grown = result["peak_mib"] - result["before_mib"]
                points.append((result["pixels"], grown))
                rows.append(f"| {name} | 60x{256 * tiles}x{256 * tiles} ({result['pixels'] / 1e6:.1f} M px) "
                            f"| {result['seconds']:.0f} | {result['before_mib']:.0f} MiB "
                            f"| {result['peak_mib']:.0f} MiB | {grown:.0f} MiB | {result['objects']} "
                            f"| {'file' if result['file_backed'] else 'RAM'} |")
                print(rows[-1], flush=True)
            if len(points) > 1:
                (p0, g0), (p1, g1) = points[0], points[-1]
                slopes.append(f"- {name}: {(g1 - g0) * 2**20 / (p1 - p0):.1f} bytes of peak RSS per "
                              "extra pixel of stack")
                print(slopes[-1], flush=True)
    if args.write:
        command = "xvfb-run -a python benchmarks/bench_gui_memory.py " + " ".join(sys.argv[1:])
        text = ("## Memory of the app segmenting a whole stack\n\n"
                f"Command: `{command}`\n\n" + "\n".join(header + rows) + "\n\n"
                + "\n".join(slopes) + "\n")
        out = ROOT / "benchmarks/results/gui_memory.md"
        out.write_text(text, "utf-8")
        print(f"written to {out}")


if __name__ == "__main__":
    main()
