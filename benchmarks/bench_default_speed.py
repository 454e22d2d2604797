"""Speed of the bundled default model on one 512x512 image on CPU threads.

Times three stages separately, each the median of ``--repeats`` runs after one warm-up:
the network alone (``predict_tiled``: tiling + forward passes, probabilities out), the
post-processing alone (``instance_labels`` with the model's own defaults), and the whole product path
(``predict_image(..., output_type="labels")``: normalisation, tiling, forward, labels).
The image is a real one: the 512x512 HeLa sample frame shipped in ``resources/samples``.

Usage (repository root):
    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_default_speed.py [--threads 2]
        [--repeats 7] [--out benchmarks/results/default_model.md]
        [--json benchmarks/results/default_speed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / "resources" / "models" / "default"
SAMPLE = ROOT / "resources" / "samples" / "hela_timelapse.tif"
TEST_CROP = ROOT / "tests" / "data" / "default_hela_f3_img.tif"


def median_seconds(function, repeats: int, threads: int) -> dict:
    """Wall times of ``function()`` over ``repeats`` calls after one warm-up call, their
    median, and the median process CPU time divided by ``threads``: on a machine shared with
    other jobs, the wall time an idle machine would show (for well-parallelised work)."""
    function()
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"median": statistics.median(wall), "min": min(wall), "runs": wall,
            "cpu": statistics.median(cpu), "cpu_per_thread": statistics.median(cpu) / threads}


def measure(threads: int, repeats: int) -> dict:
    import numpy as np
    import tifffile
    import torch

    from unet_studio.models.inference import predict_image, predict_tiled
    from unet_studio.models.normalize import normalize_intensity, percentile_range
    from unet_studio.models.postprocess import instance_labels
    from unet_studio.models.weights import load_model

    torch.set_num_threads(threads)
    net = load_model(MODEL_DIR).eval()
    image = tifffile.imread(SAMPLE)[0]  # (512, 512)
    lo, hi = percentile_range(image, net.task.lower_percentile, net.task.upper_percentile)
    normed = normalize_intensity(image, lo, hi)
    logits = predict_tiled(net, normed, device="cpu")
    probabilities = torch.softmax(torch.from_numpy(logits), 0).numpy()
    options = dict(net.task.extra.get("postprocess", {}))  # the model's own defaults
    results = {  # stage -> timings
        "network": median_seconds(lambda: predict_tiled(net, normed, device="cpu"), repeats,
                                  threads),
        "post-processing": median_seconds(lambda: instance_labels(probabilities, **options), repeats,
                                          threads),
        "whole path": median_seconds(
            lambda: predict_image(net, image, axes="YX", task=net.task, output_type="labels",
                                  device="cpu"),
            repeats, threads),
    }
    labels = predict_image(net, image, axes="YX", task=net.task, output_type="labels",
                           device="cpu")
    return {
        "test_crop_f1_50": test_crop_f1(net),
        "stages": results,
        "objects": int(len(np.unique(labels)) - 1),
        "parameters": net.num_parameters(),
        "weights_bytes": (MODEL_DIR / "model.safetensors").stat().st_size,
        "architecture": f"{net.name} {net.config.to_dict()}",
        "threads": threads, "repeats": repeats, "load_average": os.getloadavg(),
    }


def test_crop_f1(net) -> float:
    """F1 at IoU 0.5 on the crop tests/models/test_default_model.py checks (its bar sits
    a little under this)."""
    import tifffile

    from unet_studio.models.inference import predict_image
    from unet_studio.models.metrics import object_scores

    image = tifffile.imread(TEST_CROP.with_name("default_hela_f3_img.tif"))
    truth = tifffile.imread(TEST_CROP.with_name("default_hela_f3_labels.tif"))
    labels = predict_image(net, image, axes="YX", task=net.task, output_type="labels",
                           device="cpu")
    return float(object_scores(labels, truth)["f1_50"])


def report(found: dict, threads: int, repeats: int) -> str:
    lines = [
        "# Default model: size and CPU speed",
        "",
        f"Command: `OMP_NUM_THREADS={threads} .venv/bin/python {' '.join(sys.argv)}` "
        f"({time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
        f"torch threads = {threads}, machine shared with other jobs).",
        "",
        f"Model: {found['architecture']}, {found['parameters']:,} parameters, "
        f"weights file {found['weights_bytes'] / 1e6:.2f} MB (float16 safetensors). Object F1 "
        f"at IoU 0.5 on the test crop (tests/data/default_hela_f3_*.tif): "
        f"{found['test_crop_f1_50']:.3f}.",
        "",
        f"One 512x512 image (HeLa sample frame, {found['objects']} objects found), "
        f"median of {repeats} runs after a warm-up. Load average during the run: "
        + ", ".join(f"{x:.1f}" for x in found["load_average"]) + " (2 cores, shared). "
        "On a busy machine the wall times overstate an idle one's: the fastest run and the "
        "CPU time are the better guides (the network uses both threads, so an idle machine "
        "needs about CPU / 2 for it; post-processing is single-threaded, about its CPU time).",
        "",
        "| stage | median wall (s) | fastest wall (s) | median CPU (s) | all runs, wall (s) |",
        "|---|---|---|---|---|",
    ]
    for stage, timing in found["stages"].items():
        runs = ", ".join(f"{t:.3f}" for t in timing["runs"])
        lines.append(f"| {stage} | {timing['median']:.3f} | {timing['min']:.3f} "
                     f"| {timing['cpu']:.3f} | {runs} |")
    stages = found["stages"]
    idle = stages["network"]["cpu"] / threads + stages["post-processing"]["cpu"]
    lines += ["", f"Estimated idle-machine time for the whole path: {idle:.2f} s "
              f"(network CPU / {threads} + post-processing CPU)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, help="Markdown report")
    parser.add_argument("--json", type=Path, help="raw figures (for the model card)")
    args = parser.parse_args()
    found = measure(args.threads, args.repeats)
    text = report(found, args.threads, args.repeats)
    print(text)
    for path, content in ((args.out, text), (args.json, json.dumps(found, indent=1) + "\n")):
        if path:
            temp = path.with_name(f".{path.name}.tmp")
            temp.write_text(content)
            temp.replace(path)


if __name__ == "__main__":
    main()
