"""Projects saved before stacks were presented in the T Z C Y X order: their images' arrays
are turned to that order once, when the project is opened by its writer.

An image referenced with axes ``"ZTYX"`` (the order its file stores) has labels, a
prediction and reviewed/changed masks of shape ``(Z, T, Y, X)``, while its layer now opens
as ``(T, Z, Y, X)``. Each such image goes through three steps, so that a process killed at
any moment leaves a state that the next opening finishes or redoes, never a mix:

1. *preparing* (``axes-migration.json`` says so): the arrays are written transposed beside
   the old ones (``labels.canonical/``, ``prediction.canonical/``,
   ``reviewed.canonical.npz``). Killed here: the new files are dropped and it starts again.
2. *switching*: the marker says so first, then each new array replaces its old one (a
   folder rename, a file replace). Killed here: the next opening finishes the switch, which
   only moves what is still beside.
3. ``project.json`` gets the new axes (by the caller, ``Project``), then the marker goes.

The chunk store is transposed chunk by chunk when Y and X stay the last two axes (the
usual case: only the leading axes trade places), so a stack larger than RAM is never read
whole.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np

from unet_studio.app.atomic import atomic_write_json
from unet_studio.app.chunk_store import (
    CHUNK_SUFFIX,
    ChunkStore,
    all_chunk_keys,
    chunk_region,
    chunk_shape_for,
    decode_chunk,
)
from unet_studio.app.io.canonical import canonical_axes
from unet_studio.app.project_images import ImageRef
from unet_studio.app.reviewed import ReviewedRegions

MARKER = "axes-migration.json"
STORES = ("labels", "prediction")
REVIEWED = "reviewed.npz"
NEW = ".canonical"  # suffix of an array written in the new order, before it replaces the old


def target_axes(axes: str) -> str:
    """``axes`` of a project image in the order it opens in now: ``TZCYX``, RGB(A) colours
    (a C axis stored last) staying last, as ``app.io.canonical`` presents them."""
    return canonical_axes(axes, colours_last=axes.endswith("C"))


def needs_migration(ref: ImageRef) -> bool:
    return ref.axes != target_axes(ref.axes)


def label_order(old: str, new: str) -> tuple[int, ...]:
    """The permutation (as ``np.transpose``) taking arrays over ``old``'s label axes (its
    letters but C) to ``new``'s."""
    old, new = old.replace("C", ""), new.replace("C", "")
    return tuple(old.index(a) for a in new)


def pending_image(folder: Path, ref: ImageRef) -> bool:
    """Does image ``ref`` of the project ``folder`` wait for a migration (or its end)?"""
    return needs_migration(ref) or (folder / "images" / ref.id / MARKER).exists()


def migrate_image(folder: Path, ref: ImageRef) -> tuple[ImageRef, list[str]]:
    """Bring the arrays of image ``ref`` to its new order, or finish an interrupted
    migration; returns the ref as it must be saved (new axes and shape) and problems (a
    damaged array left as it was). The caller saves the ref, then calls :func:`finish`.
    OSError when the disk refuses: the old state (or a finishable one) is left."""
    image_dir = folder / "images" / ref.id
    marker = _read_marker(image_dir)
    if marker is not None and marker["state"] != "switching":
        _discard_new(image_dir)  # (killed while preparing: start again)
        marker = None
    if marker is None and not needs_migration(ref):
        return ref, []  # (a marker left by hand or by another version: nothing to turn)
    problems = []
    if marker is None and not image_dir.exists():
        return migrated_ref(ref, ref.axes, target_axes(ref.axes)), []  # (nothing saved yet)
    if marker is None:
        new_axes = target_axes(ref.axes)
        marker = {"from": ref.axes, "to": new_axes, "state": "preparing"}
        image_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(image_dir / MARKER, marker)
        try:
            problems = _prepare(image_dir, label_order(ref.axes, new_axes))
        except BaseException:  # (a full disk: free what was written, keep the old state)
            _discard_new(image_dir)
            (image_dir / MARKER).unlink(missing_ok=True)
            raise
        atomic_write_json(image_dir / MARKER, {**marker, "state": "switching"})
    _switch(image_dir)
    return migrated_ref(ref, marker["from"], marker["to"]), problems


def finish(folder: Path, ref: ImageRef) -> None:
    """The project file has the new ref: the migration of that image is complete."""
    (folder / "images" / ref.id / MARKER).unlink(missing_ok=True)


def migrated_ref(ref: ImageRef, old: str, new: str) -> ImageRef:
    """``ref`` with axes ``new`` and its labels' shape permuted (when it was ``old``'s)."""
    if ref.axes != old:
        return dataclasses.replace(ref, axes=new)  # (saved already: killed before finish)
    shape = ref.shape
    if shape is not None and len(shape) == len(old.replace("C", "")):
        shape = tuple(shape[i] for i in label_order(old, new))
    return dataclasses.replace(ref, axes=new, shape=shape)


# ---- the steps ----------------------------------------------------------------------------
def _read_marker(image_dir: Path) -> dict | None:
    path = image_dir / MARKER
    try:
        marker = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:  # (written atomically: someone else damaged it)
        raise OSError(f"{path}: unreadable ({error}); delete it to redo the update") from None
    if not isinstance(marker, dict) or not {"from", "to", "state"} <= set(marker):
        raise OSError(f"{path}: not an axis update marker; delete it to redo the update")
    return marker


def _discard_new(image_dir: Path) -> None:
    for name in STORES:
        shutil.rmtree(image_dir / (name + NEW), ignore_errors=True)
    (image_dir / ("reviewed" + NEW + ".npz")).unlink(missing_ok=True)


def _prepare(image_dir: Path, order: tuple[int, ...]) -> list[str]:
    """Write each array of the image transposed by ``order`` beside the old one."""
    problems = []
    for name in STORES:
        problems += _transpose_store(image_dir / name, image_dir / (name + NEW), order)
    problems += _transpose_reviewed(image_dir / REVIEWED,
                                    image_dir / ("reviewed" + NEW + ".npz"), order)
    return problems


def _switch(image_dir: Path) -> None:
    """Put every new array in place of its old one; only what is still beside moves, so
    running it again after a kill finishes the switch."""
    for name in STORES:
        new = image_dir / (name + NEW)
        if new.exists():
            shutil.rmtree(image_dir / name, ignore_errors=True)
            new.rename(image_dir / name)
    new = image_dir / ("reviewed" + NEW + ".npz")
    if new.exists():
        new.replace(image_dir / REVIEWED)


def _transpose_store(source: Path, target: Path, order: tuple[int, ...]) -> list[str]:
    """A chunk store ``source`` written transposed as ``target``; nothing when it holds no
    array, and a problem (the store left as it is) when it cannot be read or is not of the
    image's label axes."""
    store = ChunkStore(source)
    try:
        store.recover()  # (a journal committed by a killed save belongs to the array)
        manifest = store.manifest()
    except (OSError, ValueError, KeyError) as error:
        return [f"{source}: not updated to the new axis order, cannot read it ({error})"]
    if manifest is None:
        return []
    shape = tuple(manifest["shape"])
    if len(shape) != len(order):
        return [f"{source}: not updated to the new axis order: its shape {shape} does not "
                f"have one axis per label axis of the image"]
    new_shape = tuple(shape[i] for i in order)
    if order[-2:] == (len(order) - 2, len(order) - 1) or len(order) < 2:
        blocks, problems = _chunk_blocks(store, manifest, order)
    else:  # (Y or X moves: chunks do not map one to one; correct, and rare)
        array, problems = store.read()
        view = array.transpose(order)
        chunks = chunk_shape_for(new_shape)
        regions = {key: chunk_region(key, chunks, new_shape) for key in all_chunk_keys(new_shape)}
        blocks = {key: (lambda r=region: np.array(view[r])) for key, region in regions.items()}
    shutil.rmtree(target, ignore_errors=True)
    ChunkStore(target).write_generation(new_shape, np.dtype(manifest["dtype"]), blocks)
    return problems


def _chunk_blocks(store: ChunkStore, manifest: dict, order: tuple[int, ...]):
    """Blocks for the new store, read one chunk file at a time when written: with Y and X
    last in both orders a chunk (one plane deep on leading axes) maps to one chunk."""
    problems: list[str] = []
    folder = store.directory / manifest["generation"]

    def read(path: Path):
        try:
            return decode_chunk(path.read_bytes()).transpose(order)
        except Exception as error:  # (as ChunkStore.read: a damaged chunk is left empty)
            problems.append(f"{path}: unreadable chunk left empty ({error})")
            return np.zeros((1,) * len(order), dtype=np.dtype(manifest["dtype"]))

    blocks = {}
    for path in folder.glob(f"*{CHUNK_SUFFIX}"):
        key = tuple(int(k) for k in path.name[: -len(CHUNK_SUFFIX)].split("."))
        blocks[tuple(key[i] for i in order)] = lambda path=path: read(path)
    return blocks, problems


def _transpose_reviewed(source: Path, target: Path, order: tuple[int, ...]) -> list[str]:
    if not source.exists():
        return []
    try:
        arrays = ReviewedRegions.load(source).to_arrays()
    except ValueError as error:
        return [f"{source}: not updated to the new axis order ({error})"]
    shape = tuple(int(n) for n in arrays["shape"])
    if len(shape) != len(order):
        return [f"{source}: not updated to the new axis order: its shape {shape} does not "
                "have one axis per label axis of the image"]
    arrays["shape"] = np.array([shape[i] for i in order], dtype=np.int64)
    for name in ("reviewed", "changed"):
        if name in arrays:
            arrays[name] = np.ascontiguousarray(arrays[name].transpose(order))
    ReviewedRegions.write_arrays(target, arrays)
    return []
