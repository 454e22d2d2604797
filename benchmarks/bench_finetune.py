"""Fine-tuning benchmarks: training throughput and the validation split's share and cost.

1. Throughput: patches per second of ``iter_finetune`` steps (sampling, augmentation,
   forward, backward, AdamW), 128x128 patches, batch 8, for the default model's
   architecture (unet 12x4) with the default augmentation and with random zoom added
   (``--networks all`` adds residual_unet 16x4 and unet 32x4); median step time of each run,
   median over ``--repeats`` runs.
2. Validation: share of the reviewed pixels held out for ``val_fraction`` 5 % and 15 %, and
   the time of one validation pass (every held-out crop through the network and the
   post-processing) on the five HeLa frames and on one; ``--baseline-rev REV`` measures the
   same with ``harvest.py``/``validate.py`` as they were at git revision REV.

The simulated correction loop (correct a frame, fine-tune, score an unseen frame) is
``bench_correction_loop.py``.

    OMP_NUM_THREADS=2 nice -n 10 .venv/bin/python benchmarks/bench_finetune.py \\
        --data ../shared/data --repeats 5 --out benchmarks/results/finetune.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import tifffile
import torch

from unet_studio.models.registry import build_model
from unet_studio.models.training import FinetuneConfig, TrainingExample, iter_finetune

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARCH = dict(name="unet", base_channels=12, depth=4)
ZOOM = dict(zoom_probability=0.5, zoom_range=(0.5, 2.0))
# name -> (architecture, extra augmentation settings)
NETWORKS = {
    "unet 12x4 (the default model's)": (DEFAULT_ARCH, {}),
    "unet 12x4 + random zoom (p 0.5, 0.5-2x)": (DEFAULT_ARCH, ZOOM),
}
MORE_NETWORKS = {
    "residual_unet 16x4": (dict(name="residual_unet", base_channels=16, depth=4), {}),
    "unet 32x4 (registry default)": (dict(name="unet", base_channels=32, depth=4), {}),
}
HELA = "ctc_Fluo-N2DL-HeLa_02_5t"


def load_pair(data: Path, stem: str, labels_suffix: str) -> tuple[np.ndarray, np.ndarray]:
    image = tifffile.imread(data / f"{stem}_img.tif")
    labels = tifffile.imread(data / f"{stem}_{labels_suffix}.tif").astype(np.int32)
    return image, labels


def throughput(arch: dict, augment: dict, example, device: str, steps: int,
               batch: int = 8) -> dict:
    """One run: median step time -> patches/s (no validation, no checkpoints), by the wall
    clock and by the process's CPU time (what the run got on a shared machine)."""
    from unet_studio.models.training import AugmentConfig

    torch.manual_seed(0)
    options = dict(arch)
    net = build_model(options.pop("name"), **options)
    warmup = 2
    config = FinetuneConfig(max_seconds=None, max_steps=warmup + steps, batch_size=batch,
                            patch_size=128, val_fraction=0.0, val_every=10**6, device=device,
                            augment=AugmentConfig(**augment))
    generator = iter_finetune(net, [example], config)
    wall, cpu = [], []
    for step in range(warmup + steps):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        next(generator)
        if step >= warmup:
            wall.append(time.perf_counter() - start_wall)
            cpu.append(time.process_time() - start_cpu)
    generator.close()
    return {"step_s": statistics.median(wall), "patches_per_s": batch / statistics.median(wall),
            "patches_per_cpu_s": batch / statistics.median(cpu),
            "parameters": net.num_parameters()}


def repeated_throughput(arch, augment, example, device, steps, repeats) -> dict:
    """Median (and range) of ``repeats`` independent runs."""
    runs = [throughput(arch, augment, example, device, steps) for _ in range(repeats)]
    rates = sorted(r["patches_per_s"] for r in runs)
    return {"parameters": runs[0]["parameters"], "patches_per_s": statistics.median(rates),
            "patches_per_cpu_s": statistics.median(r["patches_per_cpu_s"] for r in runs),
            "step_s": statistics.median(r["step_s"] for r in runs), "low": rates[0],
            "high": rates[-1], "runs": repeats}


def validation_cost(image, labels, fraction: float, repeats: int, harvest_module=None,
                    validate_module=None) -> dict:
    """Held-out share and time of one validation pass (``evaluate`` over every held-out
    crop) for the default model's architecture, 128x128 patches, on ``image`` (all
    reviewed); the modules may be swapped for an older version to compare."""
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.training import harvest as harvest_default
    from unet_studio.models.training import validate as validate_default

    harvest_module = harvest_module or harvest_default
    validate_module = validate_module or validate_default
    config = FinetuneConfig(val_fraction=fraction)
    data = harvest_module.harvest([TrainingExample(image, labels)], spatial_dims=2,
                                  in_channels=1, task=TaskSpec(), config=config,
                                  patch_shape=(128, 128), rng=np.random.default_rng(0))
    torch.manual_seed(0)
    net = build_model("unet", base_channels=12, depth=4)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        validate_module.evaluate(net, data.val, task=TaskSpec(), dice_weight=1.0,
                                 device=torch.device("cpu"))
        times.append(time.perf_counter() - start)
    summary = data.summary
    evaluated = sum(int(np.prod(c.image.shape[1:])) for c in data.val)
    return {"requested": fraction, "held_out": summary["val_pixels"] / summary["reviewed_pixels"],
            "val_pixels": summary["val_pixels"], "crops": len(data.val),
            "evaluated_pixels": evaluated, "seconds": statistics.median(times)}


def modules_at(revision: str):
    """``harvest`` and ``validate`` as they were at a git revision (for before/after)."""
    import importlib.util
    import subprocess
    import sys
    import tempfile

    modules = []
    folder = Path(tempfile.mkdtemp(prefix="bench_finetune_"))
    for name in ("harvest", "validate"):
        source = subprocess.run(["git", "-C", str(ROOT), "show",
                                 f"{revision}:models/training/{name}.py"],
                                capture_output=True, text=True, check=True).stdout
        path = folder / f"{name}_at_{revision}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        modules.append(module)
    return modules


def validation_rows(data: Path, baseline: str | None, repeats: int,
                    threads: list[int]) -> list[dict]:
    image, labels = load_pair(data, HELA, "errseg")
    versions = {"now": (None, None)}
    if baseline:
        versions = {f"at {baseline}": modules_at(baseline), **versions}
    cases = {"HeLa 5x700x1100": (image, labels), "HeLa frame 700x1100": (image[0], labels[0])}
    rows, default_threads = [], torch.get_num_threads()
    for count in threads:
        torch.set_num_threads(count)
        for case, (im, lab) in cases.items():
            for fraction in (0.05, 0.15) if count == threads[0] else (0.05,):
                for version, (harvest_module, validate_module) in versions.items():
                    row = validation_cost(im, lab, fraction, repeats, harvest_module,
                                          validate_module)
                    rows.append(dict(row, case=case, version=version, threads=count))
                    print(rows[-1], flush=True)
    torch.set_num_threads(default_threads)
    return rows


def _validation_lines(rows: list[dict]) -> list[str]:
    lines = ["", "## Validation split and cost (default model's architecture, 128x128 patches)",
             "", "All pixels reviewed; one validation pass = every held-out crop through the "
             "network (eval mode, no gradients) plus instance post-processing and object "
             "matching; median of 3 passes.", "",
             "| data | code | torch threads | val_fraction | held out | crops | pixels through "
             "the net | seconds per validation |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['version']} | {r['threads']} | "
                     f"{100 * r['requested']:.0f} % | "
                     f"{100 * r['held_out']:.2f} % ({r['val_pixels']:,} px) | {r['crops']} | "
                     f"{r['evaluated_pixels']:,} | {r['seconds']:.2f} |")
    return lines


KEPT_NOTE = "(Not re-run this time"
RATES_HEADING = "## Training throughput"


def _kept_section(path: Path, heading: str) -> list[str]:
    """The section under ``heading`` of an earlier report (kept when that part is skipped)."""
    text = path.read_text() if path.exists() else ""
    if heading not in text:
        return []
    section = text[text.index(heading):].split("\n## ")[0].rstrip().splitlines()
    section = [line for line in section if not line.startswith(KEPT_NOTE)]
    while section and not section[-1].strip():
        section.pop()
    earlier = [line for line in text.splitlines() if line.startswith("Command:")]
    earlier = earlier[0].removeprefix("Command:").strip() if earlier else "an earlier run"
    notes = [line for line in text[text.index(heading):].split("\n## ")[0].splitlines()
             if line.startswith(KEPT_NOTE)]
    note = notes[0] if notes else f"{KEPT_NOTE}: figures from {earlier}.)"
    return ["", *section, "", note]


def _rate_lines(rates: dict) -> list[str]:
    lines = ["", "## Training throughput (128x128 patches, batch 8, augmentation on)", "",
             "Each run: median of the timed steps after 2 warm-up steps; the table gives the "
             "median over runs. *Per CPU-second* divides by the CPU time the process got "
             "(all its threads), which a busy shared machine disturbs far less than the wall "
             "clock.", "",
             "| network | parameters | median step (wall) | patches/s (wall) | range over runs "
             "| patches per CPU-second | runs |", "|---|---|---|---|---|---|---|"]
    for name, r in rates.items():
        lines.append(f"| {name} | {r['parameters']:,} | {r['step_s']:.3f} s | "
                     f"{r['patches_per_s']:.2f} | {r['low']:.2f}–{r['high']:.2f} | "
                     f"{r['patches_per_cpu_s']:.2f} | {r['runs']} |")
    return lines


def write_report(path: Path, command: str, sections: list[str], device: str,
                 loads: dict) -> None:
    lines = ["# Fine-tuning benchmarks", "", f"Command: `{command}`", "",
             f"Machine: {platform.processor() or platform.machine()}, "
             f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}; "
             f"load average (1 min) {loads['start']:.1f} at the start, {loads['end']:.1f} at "
             "the end (other jobs share the 2 cores).", *sections]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per network")
    parser.add_argument("--networks", choices=("default", "all"), default="default")
    parser.add_argument("--skip-validation", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true",
                        help="keep the throughput table already in --out")
    parser.add_argument("--validation-threads", type=int, nargs="+", default=[1, 2],
                        help="torch threads for the validation timings (default 1 2)")
    parser.add_argument("--baseline-rev", default=None,
                        help="git revision whose harvest/validate to compare validation with")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    loads = {"start": os.getloadavg()[0]}
    sections = _kept_section(args.out, RATES_HEADING) if args.skip_throughput and args.out else []
    if not args.skip_throughput:
        image, labels = load_pair(args.data, HELA, "errseg")
        crop = TrainingExample(image[0, :384, :384], labels[0, :384, :384])
        networks = {**NETWORKS, **(MORE_NETWORKS if args.networks == "all" else {})}
        rates = {}
        for name, (arch, augment) in networks.items():
            rates[name] = repeated_throughput(arch, augment, crop, args.device, args.steps,
                                              args.repeats)
            print(name, {k: round(v, 3) for k, v in rates[name].items()}, flush=True)
        sections += _rate_lines(rates)
    if not args.skip_validation:
        sections += _validation_lines(validation_rows(args.data, args.baseline_rev, 3,
                                                      args.validation_threads))
    loads["end"] = os.getloadavg()[0]
    if args.out:
        import sys

        arguments = " ".join(["benchmarks/bench_finetune.py", *sys.argv[1:]])
        command = f"OMP_NUM_THREADS={torch.get_num_threads()} .venv/bin/python {arguments}"
        write_report(args.out, command, sections, args.device, loads)


if __name__ == "__main__":
    main()
