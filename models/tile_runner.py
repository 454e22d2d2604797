"""Running batches of tiles through a network on one device.

``InferenceSession`` owns the device side of tiled inference: it puts the network on the
device in eval mode for the duration of a run (and puts it back afterwards, which frees GPU
memory on cancel), applies autocast, test-time flips, and on CUDA overlaps transfers with
compute: ``submit`` launches a batch and returns at once, ``collect`` waits for it, so the
caller reads the next batch from disk while the GPU works on the current one.
"""

from __future__ import annotations

import itertools
import logging
import math

import numpy as np

from unet_studio.models.devices import autocast_dtype, release_memory, resolve_device

log = logging.getLogger(__name__)


class InferenceSession:
    """Context manager: ``with InferenceSession(net, "auto") as session: session.submit(...)``.

    ``overlap`` (CUDA only): pinned host buffers and asynchronous copies, so reading the next
    batch overlaps with the current one's transfer and compute; off, every batch is copied and
    waited for in turn (what ``benchmarks/bench_gpu.py`` compares against).
    """

    def __init__(self, net, device="auto", *, amp: bool = True, tta: bool = False,
                 overlap: bool = True):
        self.net = net
        self.device = resolve_device(device)
        self.amp = amp
        self.dtype = autocast_dtype(self.device, amp)
        self.tta = tta
        self.overlap = overlap
        self._was_training = net.training
        self._home = _module_device(net)
        self._warned_overflow = False

    def __enter__(self) -> InferenceSession:
        self.net.to(self.device)
        self.net.eval()
        return self

    def __exit__(self, *exc_info) -> None:
        self.net.train(self._was_training)
        if self._home is not None and self._home != self.device:
            self.net.to(self._home)
        release_memory(self.device)

    @property
    def uses_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def overlaps(self) -> bool:
        """Pinned buffers and asynchronous transfers are in use (CUDA with ``overlap``)."""
        return self.uses_cuda and self.overlap

    def fall_back_to_cpu(self) -> None:
        """Continue on the CPU after the GPU cannot hold even the smallest tile."""
        import torch

        log.warning("out of GPU memory with the smallest tile: continuing on the CPU")
        release_memory(self.device)
        self.device = torch.device("cpu")
        self.dtype = None
        self.net.to(self.device)

    def submit(self, windows: list[np.ndarray]):
        """Launch the network on ``windows`` (each ``(C, *window)`` float32); returns a handle."""
        import torch

        host = torch.empty((len(windows), *windows[0].shape), dtype=torch.float32,
                           pin_memory=self.overlaps)
        host_array = host.numpy()
        for index, window in enumerate(windows):
            host_array[index] = window
        x = host.to(self.device, non_blocking=self.overlaps)
        with torch.inference_mode(), self._autocast():
            y = self._forward(x).float()
        if not self.overlaps:  # CPU, or transfers off: the result is ready (copied) now
            return (y.cpu(), None, host)
        result = torch.empty(y.shape, dtype=torch.float32, pin_memory=True)
        result.copy_(y, non_blocking=True)
        done = torch.cuda.Event()
        done.record()
        # The input buffer stays referenced until collect: its copy may still be in flight.
        return (result, done, host)

    def collect(self, handle) -> np.ndarray:
        """Wait for a submitted batch; returns ``(B, out_channels, *output_tile)`` float32."""
        result, done, host = handle
        if done is not None:
            done.synchronize()
        output = result.numpy()
        if self._overflowed(output):
            output = self._forward_full_precision(host)
        return output

    def _overflowed(self, output: np.ndarray) -> bool:
        """fp16 (MPS, CUDA before bf16) tops out at 65504: very bright pixels, or activations
        that grow through a deep network, become inf and then NaN. Checked on the host copy,
        after the wait, so the check never stalls the device pipeline."""
        import torch

        return self.dtype is torch.float16 and not np.isfinite(output).all()

    def _forward_full_precision(self, host) -> np.ndarray:
        """The batch again in fp32: the same result as a run without autocast."""
        import torch

        if not self._warned_overflow:
            log.warning("fp16 overflowed on a batch of tiles (very bright pixels or large "
                        "activations): such batches are recomputed in fp32")
            self._warned_overflow = True
        with torch.inference_mode():
            return self._forward(host.to(self.device)).float().cpu().numpy()

    def _autocast(self):
        import contextlib

        import torch

        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def _forward(self, x):
        """``(B, C, *S)`` -> ``(B, out_channels, *S_out)``; with TTA, the mean over all flips."""
        import torch

        if not self.tta:
            return _main_output(self.net(x))
        dims = list(range(2, x.ndim))
        flips = [c for r in range(len(dims) + 1) for c in itertools.combinations(dims, r)]
        # One forward over every flipped copy: a bigger batch uses the device better.
        stacked = torch.cat([x.flip(f) if f else x for f in flips])
        y = _main_output(self.net(stacked)).float()
        parts = y.chunk(len(flips))
        return sum(p.flip(f) if f else p for p, f in zip(parts, flips)) / len(flips)

    def measure_bytes_per_pixel(self, window_shape: tuple[int, ...], in_channels: int) -> float:
        """Peak device bytes per input pixel of one window (CUDA only; a real forward)."""
        import torch

        torch.cuda.synchronize(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        before = torch.cuda.memory_allocated(self.device)
        x = torch.zeros((1, in_channels, *window_shape), device=self.device)
        with torch.inference_mode(), self._autocast():
            self._forward(x)
        torch.cuda.synchronize(self.device)
        peak = torch.cuda.max_memory_allocated(self.device) - before
        return peak / math.prod(window_shape)


def _main_output(y):
    """Networks with deep supervision return a list in train mode; eval gives the tensor."""
    return y[0] if isinstance(y, (list, tuple)) else y


def _module_device(net):
    for tensor in itertools.chain(net.parameters(), net.buffers()):
        return tensor.device
    return None
