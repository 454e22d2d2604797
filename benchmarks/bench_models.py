"""Architecture figures of every registered model: parameters, FLOPs per pixel, receptive
field, halo and size divisor (all derived from the architecture), plus a CPU forward time.

Usage: OMP_NUM_THREADS=2 python benchmarks/bench_models.py [--dims 2] [--side 256] [--repeats 3]
Prints a markdown table (paste into benchmarks/results/models.md).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from unet_studio.models.registry import build_model, list_models


def forward_seconds(net, side: int, repeats: int) -> float:
    shape = net.valid_input_shape((side,) * net.spatial_dims)
    x = torch.randn(1, net.in_channels, *shape)
    times = []
    with torch.inference_mode():
        net(x)  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            net(x)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, default=2)
    parser.add_argument("--side", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"| model (defaults, {args.dims}D) | parameters | MFLOP/pixel | receptive field | halo "
          f"| divisor | forward {args.side}^{args.dims} (s, median of {args.repeats}) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in list_models():
        net = build_model(name, spatial_dims=args.dims).eval()
        seconds = forward_seconds(net, args.side, args.repeats)
        print(f"| {name} | {net.num_parameters():,} | {net.flops_per_pixel() / 1e6:.3f} "
              f"| {net.receptive_field[0]} | {net.halo[0]} | {net.size_divisor[0]} "
              f"| {seconds:.3f} |")


if __name__ == "__main__":
    main()
