"""GPU figures of tiled inference (issue 3), for a session that has a CUDA GPU.

    .venv/bin/python benchmarks/bench_gpu.py --out benchmarks/results/gpu.md [--size 4096]

Without CUDA it prints one line and exits 0. With CUDA it measures, on a base-32 2D U-Net
(depth 4, BatchNorm with random statistics, ~0.37 MFLOP per output pixel):

1. the bf16 matmul peak of the card (8192^3 products): the roofline;
2. bf16 throughput of ``predict_tiled`` (automatic tile) in pixels/s and as a fraction of
   that roofline (``net.flops_per_pixel()`` per output pixel, so halo work counts as loss),
   against one untiled forward of the same image;
3. GPU peak memory (``torch.cuda.max_memory_allocated``) predicting two stacks of different
   depth slice by slice into a memory-mapped mask: it must not grow with the stack;
4. out-of-memory back-off on the real card: the process is capped
   (``set_per_process_memory_fraction``) below what the automatic tile needs, the run must
   finish by shrinking the batch/tile, and match the CPU result (fp32 on both sides);
5. pinned, overlapped transfers on vs off (``InferenceSession(overlap=...)``).

Each section is timed after a warm-up, 3 repeats, median; a failing section is reported in
the output file and the others still run.
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

REPEATS = 3


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def base32_net():
    from unet_studio.models.exactness import random_bn_net

    return random_bn_net("unet", out_channels=3, spatial_dims=2, depth=4, base_channels=32)


def synchronized_seconds(function) -> tuple[float, object]:
    import torch

    torch.cuda.synchronize()
    start = time.perf_counter()
    result = function()
    torch.cuda.synchronize()
    return time.perf_counter() - start, result


def median_seconds(function, repeats: int = REPEATS) -> float:
    function()  # warm-up: cuDNN algorithm search, allocator growth
    return statistics.median(synchronized_seconds(function)[0] for _ in range(repeats))


def matmul_peak_tflops(n: int = 8192, steps: int = 50) -> float:
    """Measured bf16 dense matmul rate of this card (TFLOP/s): the practical roofline."""
    import torch

    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)

    def run():
        for _ in range(steps):
            a @ b

    seconds = median_seconds(run)
    return 2 * n**3 * steps / seconds / 1e12


def untiled_forward(net, image: np.ndarray) -> None:
    """One bf16 forward over the whole (divisor-sized) image; the output is copied back."""
    import torch

    x = torch.from_numpy(image)[None, None].cuda()
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
        net(x).float().cpu()


def automatic_plan(net, shape: tuple[int, ...]) -> str:
    """What ``predict_tiled`` chooses on this card: tiles, window and batch."""
    from unet_studio.models.inference import prepare_plan
    from unet_studio.models.tile_runner import InferenceSession

    with InferenceSession(net, "cuda") as session:
        plan, _, batch = prepare_plan(session, net, shape)
    return f"{len(plan)} tile(s) of {'x'.join(map(str, plan.window_shape))}, batch {batch}"


def section_throughput(net, size: int, peak: float) -> list[str]:
    import torch

    from unet_studio.models.inference import predict_tiled

    image = np.random.default_rng(0).random((size, size), dtype=np.float32)
    net.cuda().eval()
    flops = net.flops_per_pixel()
    tiled = median_seconds(lambda: predict_tiled(net, image, device="cuda", amp=True))
    rows = [f"## Throughput: base-32 U-Net, bf16, {size}x{size}\n",
            f"flops_per_pixel {flops / 1e6:.3f} MFLOP; roofline {peak:.0f} TFLOP/s (bf16 matmul); "
            f"automatic plan: {automatic_plan(net, image.shape)}\n",
            "| variant | median s | Mpx/s | TFLOP/s (useful) | fraction of roofline |",
            "|---|---|---|---|---|"]
    variants = {"predict_tiled (automatic tile)": tiled,
                "predict_tiled (1024-px cores)": median_seconds(
                    lambda: predict_tiled(net, image, tile_shape=1024, device="cuda", amp=True))}
    try:
        variants["untiled, one forward"] = median_seconds(lambda: untiled_forward(net, image))
    except torch.OutOfMemoryError:
        rows.insert(2, f"untiled {size}x{size} does not fit this card\n")
    torch.cuda.empty_cache()
    for name, seconds in variants.items():
        rate = size * size / seconds
        tflops = rate * flops / 1e12
        rows.append(f"| {name} | {seconds:.3f} | {rate / 1e6:.1f} | {tflops:.1f} | "
                    f"{tflops / peak:.3f} |")
    if "untiled, one forward" in variants:
        untiled = variants["untiled, one forward"]
        rows.append(f"\ntiled / untiled throughput: automatic {untiled / tiled:.3f}, 1024-px cores "
                    f"{untiled / variants['predict_tiled (1024-px cores)']:.3f}")
    return rows


def predict_stack_peak(net, planes: int, folder: Path) -> tuple[float, float]:
    """(GPU peak MiB, seconds) predicting a (planes, 2048, 2048) uint16 stack into a mask."""
    import torch

    from unet_studio.models.inference import predict_image
    from unet_studio.models.task import TaskSpec

    rng = np.random.default_rng(planes)
    stack = np.lib.format.open_memmap(folder / f"stack{planes}.npy", mode="w+",
                                      dtype=np.uint16, shape=(planes, 2048, 2048))
    for z in range(planes):
        stack[z] = rng.integers(0, 4096, (2048, 2048), dtype=np.uint16)
    out = np.lib.format.open_memmap(folder / f"mask{planes}.npy", mode="w+", dtype=np.uint8,
                                    shape=stack.shape)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    seconds, _ = synchronized_seconds(lambda: predict_image(
        net, stack, axes="ZYX", task=TaskSpec(), output_type="mask", device="cuda", out=out))
    return torch.cuda.max_memory_allocated() / 2**20, seconds


def section_memory(net, folder: Path) -> list[str]:
    rows = ["## GPU peak memory vs stack size (2D net slice by slice, mask into a memmap)\n",
            "| stack | GPU peak MiB | seconds | Mpx/s |", "|---|---|---|---|"]
    predict_stack_peak(net, 2, folder)  # warm-up
    for planes in (40, 160):  # both above the largest batch: a batch never holds the whole stack
        peak, seconds = predict_stack_peak(net, planes, folder)
        rows.append(f"| {planes}x2048x2048 uint16 | {peak:.0f} | {seconds:.2f} | "
                    f"{planes * 2048 * 2048 / seconds / 1e6:.1f} |")
    return rows


class _BackoffLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        if "out of memory" in record.getMessage():
            self.messages.append(record.getMessage())


def section_oom(net, size: int = 3072) -> list[str]:
    """Cap the process below the automatic tile's need; the run must back off and finish."""
    import torch

    from unet_studio.models.inference import predict_tiled

    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    image = np.random.default_rng(3).random((size, size), dtype=np.float32)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    free_run = predict_tiled(net, image, device="cuda", amp=False)
    needed = torch.cuda.max_memory_allocated()
    total = torch.cuda.get_device_properties(0).total_memory
    handler = _BackoffLog()
    logging.getLogger("unet_studio.models.inference").addHandler(handler)
    logging.getLogger("unet_studio.models.inference").setLevel(logging.INFO)
    torch.cuda.empty_cache()
    torch.cuda.set_per_process_memory_fraction(needed / 4 / total)
    try:
        seconds, capped = synchronized_seconds(
            lambda: predict_tiled(net, image, device="cuda", amp=False))
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        logging.getLogger("unet_studio.models.inference").removeHandler(handler)
    cpu = predict_tiled(net.cpu(), image, device="cpu")
    scale = float(np.abs(cpu).max())
    return ["## Out-of-memory back-off on the card (fp32, TF32 off)\n",
            f"uncapped peak {needed / 2**20:.0f} MiB; capped at {needed / 4 / 2**20:.0f} MiB; "
            f"{len(handler.messages)} back-off step(s): {'; '.join(handler.messages) or 'none'}; "
            f"finished in {seconds:.2f} s\n",
            f"max |capped - CPU| / max|CPU| = {np.abs(capped - cpu).max() / scale:.2e}; "
            f"max |uncapped - CPU| / max|CPU| = {np.abs(free_run - cpu).max() / scale:.2e}"]


def run_plan_seconds(net, image, overlap: bool) -> float:
    from unet_studio.models.inference import drain, iter_run_plan, prepare_plan
    from unet_studio.models.tile_runner import InferenceSession

    def run():
        with InferenceSession(net, "cuda", amp=True, overlap=overlap) as session:
            plan, geometry, batch = prepare_plan(session, net, image.shape, tile_shape=1024,
                                                 batch_size=2)
            out = np.zeros((3, *image.shape), np.float32)
            drain(iter_run_plan(session, image[None], plan, out, geometry, batch))

    return median_seconds(run)


def section_transfers(net, size: int) -> list[str]:
    image = np.random.default_rng(4).random((size, size), dtype=np.float32)
    rows = [f"## Pinned, overlapped transfers ({size}x{size}, bf16, 1024-px cores, batch 2)\n",
            "| transfers | median s | Mpx/s |", "|---|---|---|"]
    for overlap in (True, False):
        seconds = run_plan_seconds(net, image, overlap)
        rows.append(f"| {'pinned + overlapped' if overlap else 'pageable, synchronous'} | "
                    f"{seconds:.3f} | {size * size / seconds / 1e6:.1f} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/gpu.md"))
    parser.add_argument("--size", type=int, default=4096, help="image side for throughput")
    args = parser.parse_args()
    if not cuda_available():
        print("no GPU: torch.cuda.is_available() is False here; nothing measured")
        return 0
    import torch

    props = torch.cuda.get_device_properties(0)
    lines = ["# Tiled inference on a GPU (issue 3)\n",
             f"`{' '.join([Path(sys.executable).name, *sys.argv])}`\n",
             f"{props.name}, {props.total_memory / 2**30:.0f} GiB, torch {torch.__version__}, "
             f"CUDA {torch.version.cuda}, {platform.node()}; medians of {REPEATS} after a warm-up\n"]
    net = base32_net()
    peak = float("nan")
    try:
        peak = matmul_peak_tflops()
    except Exception:  # every section reports its own failure; the rest still run
        lines.append(f"roofline failed:\n```\n{traceback.format_exc()}```")
    with tempfile.TemporaryDirectory() as folder:
        sections = [lambda: section_throughput(net, args.size, peak),
                    lambda: section_memory(net.cuda(), Path(folder)),
                    lambda: section_oom(net.cuda()),
                    lambda: section_transfers(net.cuda(), args.size)]
        for section in sections:
            try:
                lines += ["", *section()]
            except Exception:
                lines += ["", f"section failed:\n```\n{traceback.format_exc()}```"]
            print("\n".join(lines[-6:]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
