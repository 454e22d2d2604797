"""The header of a ``model.safetensors`` file, read and checked without torch and without
reading the weights (a model's folder is checked in milliseconds, whatever its size), and
never unpickled: a PyTorch pickle found instead is named, with what to do about it.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

from unet_studio.app.errors import InputFileError

WEIGHTS_FILE = "model.safetensors"
PICKLED_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".bin")
# Bytes per element of the safetensors dtypes torch reads (what a tensor's offsets must span).
SAFETENSORS_DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
    "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip
MAX_HEADER_BYTES = 100_000_000  # (safetensors' own limit: a bigger one is not a header)


def check_safetensors_header(path: Path) -> dict:
    """Parse the JSON header of a safetensors file (8-byte little-endian length, then JSON)
    and check it as safetensors does when loading: a known dtype and a shape for every
    tensor, its bytes as many as its shape needs, the tensors one after another up to the
    end of the file. So a file refused at load time is refused here, without torch and
    without reading the weights. Returns the header."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as file:
            prefix = file.read(8)
            if len(prefix) < 8:
                raise ValueError("shorter than its header")
            (length,) = struct.unpack("<Q", prefix)
            if length > min(size - 8, MAX_HEADER_BYTES):
                raise ValueError("its header says it is longer")
            header = json.loads(file.read(length))
        if not isinstance(header, dict):
            raise ValueError("its header is not a JSON object")
    except FileNotFoundError:
        raise InputFileError(path.parent, f"has no weights ({WEIGHTS_FILE} missing"
                                          f"{_pickled_hint(path.parent)})") from None
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise InputFileError(path, f"is not a safetensors file, or is cut short ({error})") from None
    _check_tensor_entries(path, header, size - 8 - length)
    return header


def _check_tensor_entries(path: Path, header: dict, data_size: int) -> None:
    """InputFileError naming the first tensor whose entry does not describe its bytes."""
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        entry = entry if isinstance(entry, dict) else {}
        offsets, shape = entry.get("data_offsets"), entry.get("shape")
        item_bytes = SAFETENSORS_DTYPE_BYTES.get(entry.get("dtype"))
        if not (_is_int_list(offsets, 2) and _is_int_list(shape) and item_bytes
                and 0 <= offsets[0] <= offsets[1] <= data_size
                and offsets[1] - offsets[0] == item_bytes * math.prod(shape)):  # fmt: skip
            raise InputFileError(path, f"is truncated or damaged (tensor {name!r})")
        spans.append((offsets[0], offsets[1], name))
    end = 0
    for start, stop, name in sorted(spans):
        if start != end:  # (a gap or an overlap: safetensors refuses the file)
            raise InputFileError(path, f"is damaged (tensor {name!r} is not where it should be)")
        end = stop
    if end != data_size:
        raise InputFileError(path, f"is damaged ({data_size - end} bytes after its last tensor)")


def _is_int_list(value, length: int | None = None) -> bool:
    return (isinstance(value, list) and (length is None or len(value) == length)
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value))


def _pickled_hint(folder: Path) -> str:
    """What to do with PyTorch pickles found instead of safetensors weights."""
    pickles = sorted(p.name for p in folder.glob("*") if p.suffix.lower() in PICKLED_SUFFIXES)
    if not pickles:
        return ""
    return (f"; {', '.join(pickles)} is a pickled PyTorch file, never loaded because "
            "unpickling can run any code: save its state_dict with "
            f"safetensors.torch.save_file as {WEIGHTS_FILE}")
