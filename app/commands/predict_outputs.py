"""Where ``unet-studio predict`` writes: the output file of each input, and the outputs that
already exist (refused, or skipped with ``--skip-existing``).

Apart from the command's flow (``predict``) because it is decided from paths and sizes alone,
before any pixel is computed, and other commands that write files ask the same questions
(``measure`` refuses an existing output through :func:`refuse_existing`).
"""

from __future__ import annotations

import math
from pathlib import Path

OUTPUT_SUFFIXES = (".tif", ".tiff", ".zarr")
# An output named like a file of another kind is a mistake, not a folder to create.
NOT_OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".npy", ".npz", ".h5", ".hdf5",
                       ".csv", ".json", ".nd2", ".czi", ".lif", ".mrc")  # fmt: skip
# Beyond this an output goes to Zarr in folder mode: chunked, no 4 GB TIFF limits.
ZARR_ABOVE_BYTES = 4 * 2**30


def output_paths(inputs: list[str], output: str, output_type: str, sizes: list[int]) -> list[Path]:
    """Where each input's result goes: ``output`` itself for one input named like a file,
    else ``<output>/<input stem>_<output_type>.tif`` (``.zarr`` above ZARR_ABOVE_BYTES)."""
    from unet_studio.app.errors import UserError

    target = Path(output).expanduser()
    if target.suffix.lower() in NOT_OUTPUT_SUFFIXES and not target.is_dir():
        raise UserError(f"{target}: results are written as .tif, .tiff or .zarr (or into a folder); "
                        f"not {target.suffix}")
    as_file = len(inputs) == 1 and target.suffix.lower() in OUTPUT_SUFFIXES
    if as_file:
        return [target]
    if target.suffix.lower() in OUTPUT_SUFFIXES and not target.is_dir():
        raise UserError(f"{target}: several inputs need an output folder, not a file name")
    names = [_stem(Path(p)) for p in inputs]
    first_with = {}
    for path, name in zip(inputs, names):
        if name in first_with:  # (their outputs would be one file, NAME_labels.tif)
            raise UserError(f"{first_with[name]} and {path} have the same name ({name}); run "
                            "them separately to different outputs")
        first_with[name] = path
    return [target / f"{name}_{output_type}{'.zarr' if size > ZARR_ABOVE_BYTES else '.tif'}"
            for name, size in zip(names, sizes)]


def refuse_existing(targets: list[Path], overwrite: bool, *, skippable: bool = False) -> None:
    """Stop before any work when an output exists: it may be labels the user corrected.
    ``skippable``: the command has ``--skip-existing`` (predict), said when it would help."""
    from unet_studio.app.errors import UserError

    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        skip = ", --skip-existing to keep it and do the others" if skippable and len(targets) > 1 else ""
        raise UserError(f"{existing[0]}: already exists{more}; pass --overwrite to replace it{skip}, "
                        "or choose another -o")


def set_aside_existing(jobs: list[tuple], skip: bool) -> tuple[list[tuple], list[tuple]]:
    """``jobs`` (stack, target, size) split into those to run and those skipped because
    their target exists (with ``skip``; else none). An existing output is complete:
    ``open_output`` writes a temporary name and renames it into place at the end."""
    if not skip:
        return jobs, []
    return [j for j in jobs if not j[1].exists()], [j for j in jobs if j[1].exists()]


def _stem(path: Path) -> str:
    name = path.name.rstrip("/") or "image"
    for suffix in (".ome.tiff", ".ome.tif", ".tiff", ".tif", ".zarr"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def output_bytes(stack, net, output_type: str) -> int:
    """Bytes of the (uncompressed) result, to choose between TIFF and Zarr."""
    from unet_studio.app.class_map import model_classes
    from unet_studio.app.predict_files import output_dtype

    pixels = math.prod(n for a, n in zip(stack.axes, stack.shape) if a != "C")
    if output_type == "probabilities":
        return pixels * 4 * int(net.out_channels)
    # (a semantic model's class map is written in its smallest type: uint8 for up to 256)
    classes = (list(model_classes(net)) or None) if output_type == "labels" else None
    return pixels * output_dtype(output_type, classes).itemsize


def put_back_output(output: str) -> None:
    """An -o output whose last writer was killed while replacing it (the previous one set
    aside under a hidden name, ``io.atomic``) is put back first: a run refused before it
    writes (a bad input, option or model) never reaches the sweep of the next write."""
    from unet_studio.app.io.atomic import put_back_abandoned

    put_back_abandoned(Path(output).expanduser())
