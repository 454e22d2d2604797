"""Which torch device to compute on, and what the device can hold.

``"auto"`` prefers CUDA, then Apple MPS, then the CPU, so the same call does the fastest
thing on a workstation, a Mac and a laptop without a GPU.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available(torch) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> list[str]:
    """Devices usable on this machine, fastest first, e.g. ``["cuda:0", "cpu"]``."""
    import torch

    devices = [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    if _mps_available(torch):
        devices.append("mps")
    devices.append("cpu")
    return devices


def resolve_device(device=None):
    """A ``torch.device`` for ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a device.

    Raises ValueError when the device named is not available here, saying which are.
    """
    import torch

    if isinstance(device, torch.device):
        return device
    name = "auto" if device is None else str(device).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available(torch):
            return torch.device("mps")
        return torch.device("cpu")
    kind = name.split(":", 1)[0]
    if kind not in DEVICE_CHOICES:
        raise ValueError(f"device must be one of {DEVICE_CHOICES} (or cuda:N), got {device!r}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} is not available here; available: {available_devices()}")
    if kind == "mps" and not _mps_available(torch):
        raise ValueError(f"device 'mps' is not available here; available: {available_devices()}")
    resolved = torch.device(name)
    if kind == "cuda" and resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ValueError(f"device {name!r} does not exist; available: {available_devices()}")
    return resolved


def free_memory_bytes(device) -> int | None:
    """Bytes the device can still allocate (CUDA: free memory plus torch's cached blocks).

    None where torch cannot tell (CPU, MPS): the caller then uses a fixed pixel budget.
    """
    import torch

    if device.type != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info(device)
    cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    return int(free + max(cached, 0))


def autocast_dtype(device, amp: bool):
    """Reduced precision for autocast on this device, or None for plain fp32.

    bf16 where CUDA supports it (same range as fp32, so no overflow in deep nets), else fp16;
    fp16 on MPS; never on the CPU, where bf16 convolutions are slower than fp32 on most chips.
    """
    import torch

    if not amp or device.type == "cpu":
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return None


def is_out_of_memory(error: BaseException) -> bool:
    """True for allocation failures on any backend (CUDA, MPS and CPU word them differently)."""
    import torch

    if isinstance(error, torch.OutOfMemoryError):
        return True
    message = str(error).lower()
    return isinstance(error, RuntimeError) and (
        "out of memory" in message or "can't allocate memory" in message
    )


def release_memory(device) -> None:
    """Hand cached blocks back to the driver so other programs (and the GUI) can use them."""
    import torch

    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()
