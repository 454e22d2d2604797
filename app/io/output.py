"""``open_output``: a destination written region by region (tiled inference), then committed.

``with open_output(path, shape, dtype, axes=...) as out: out[region] = block``. ``out`` is an
``np.memmap`` in the caller's axis order: inside a temporary TIFF, or in a staging file
inside a temporary OME-Zarr folder. On a clean exit the temporary is finished and renamed
into place (a TIFF of at most ``compress_below`` bytes, 1 GiB by default, is first rewritten
zlib-compressed, a bigger one is kept uncompressed: ``stays_uncompressed`` tells which; a
Zarr's levels are compressed from the staging file, each chunk once); on an exception (also
Ctrl-C and SIGTERM, which the CLI turns into one) the temporary is removed and nothing appears.
An error writing the output is a WriteError naming ``path``, not its hidden temporary; an
error of the caller's own, raised in the ``with`` block, is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from unet_studio.app.io.atomic import (
    commit,
    ensure_parent_folder,
    refuse_overwriting_source,
    remove_quietly,
    run_interruptibly,
    temporary_sibling,
)
from unet_studio.app.io.axes import parse_user_axes
from unet_studio.app.io.validate import check_shape
from unet_studio.app.io.write import (
    canonical_order,
    check_kind,
    checked_class_names,
    naming_errors,
    output_format,
    resolve_scale,
)

RELEASE_EVERY_BYTES = 64 * 2**20  # compression pass: mapped pages handed back this often
STAGING_NAME = ".unet-studio-staging"  # a Zarr output's uncompressed pixels until it is done
# A streamed TIFF bigger than this is kept as written, uncompressed: compressing it is a second
# pass over the whole file (see _compress_into), minutes for a few GiB on a laptop.
COMPRESS_BELOW = 2**30


def stays_uncompressed(path: str | Path, nbytes: int, compress_below: int | None = None) -> bool:
    """Whether ``open_output`` (and ``write_stack``: one rule) keeps an output of ``nbytes``
    (uncompressed) at ``path`` uncompressed: a TIFF over ``compress_below`` (default
    ``COMPRESS_BELOW``); never a Zarr."""
    limit = COMPRESS_BELOW if compress_below is None else compress_below
    return output_format(Path(path)) != "zarr" and nbytes > limit


def uncompressed_reason(nbytes: int) -> str:
    """"left uncompressed (1.5 GiB > 1.0 GiB)": what is said of a TIFF of ``nbytes`` that
    ``stays_uncompressed``, followed by what to do about it."""
    from unet_studio.models.size_text import size_text

    return f"left uncompressed ({size_text(nbytes)} > {size_text(COMPRESS_BELOW)})"


@contextmanager
def open_output(path: str | Path, shape: tuple[int, ...], dtype, *, axes: str,
                scale: dict | None = None, source: str | Path | None = None,
                kind: str | None = None, units: dict | None = None,
                compress_below: int | None = None, pyramid_levels: int | None = None,
                channel_names: list[str] | None = None,
                class_names: list[str] | None = None) -> Iterator:
    """Yield a writable array of ``shape`` (named by ``axes``) that becomes ``path`` on success.

    ``kind`` defaults to "probabilities" for float dtypes and "labels" otherwise (recorded in
    the file so readers show labels as labels). TIFF outputs need Y and X as the last axes.
    ``compress_below``: see ``stays_uncompressed`` (None: ``COMPRESS_BELOW``).
    ``channel_names``: what each index of ``C`` is (probabilities: the model's classes),
    recorded where other readers look: OME-TIFF ``Channel Name``, OME-Zarr
    ``omero.channels[i].label``, an ImageJ hyperstack's plane labels. ``class_names``: labels
    of a class map (a semantic model's), what each value is (see ``write_stack``).
    """
    path = Path(path)
    fmt = output_format(path)
    refuse_overwriting_source(path, source)
    shape = tuple(int(n) for n in shape)
    check_shape(path, shape)
    axes = parse_user_axes(path, axes, shape)
    dtype = np.dtype(np.uint8) if np.dtype(dtype).kind == "b" else np.dtype(dtype)
    kind = kind or ("probabilities" if dtype.kind == "f" else "labels")
    check_kind(kind)
    class_names = checked_class_names(class_names, kind)
    scale, units = resolve_scale(axes, scale, units, source)
    ensure_parent_folder(path)
    settings = {"axes": axes, "scale": scale, "units": units, "kind": kind,
                "channel_names": None if channel_names is None else list(channel_names),
                "class_names": class_names}
    if fmt == "zarr":
        with _zarr_output(path, shape, dtype, pyramid_levels=pyramid_levels, **settings) as out:
            yield out
    else:
        with _tiff_output(path, shape, dtype, ome=fmt == "ome", compress_below=compress_below,
                          **settings) as out:
            yield out


@contextmanager
def _zarr_output(path: Path, shape, dtype, *, axes, scale, units, kind, channel_names,
                 class_names, pyramid_levels):
    """Tiles go into an uncompressed memory map (as for a TIFF), and the OME-Zarr is made
    from it at the end, slab by slab. Why not into the Zarr array itself: tiles are smaller
    than its chunks (a 2D tile is one of a chunk's 16 planes), and every tile written into a
    compressed chunk reads, decodes and compresses the whole chunk again."""
    from unet_studio.app.io.zarr_io import NGFF_AXIS_ORDER, zarr_stem
    from unet_studio.app.io.zarr_write import (
        create_ome_zarr,
        default_pyramid_levels,
        settle_zarr_writes,
    )

    stored_axes = canonical_order(axes, NGFF_AXIS_ORDER)
    stored_shape = tuple(shape[axes.index(a)] for a in stored_axes)
    temporary = temporary_sibling(path)
    try:
        with naming_errors(path, temporary):
            created = []  # (made in a worker: an interruption waits for Zarr's metadata writes)
            run_interruptibly(lambda _check: created.append(create_ome_zarr(
                temporary, stored_shape, dtype, axes=stored_axes, scale=scale, units=units,
                kind=kind, name=zarr_stem(path), channel_names=channel_names,
                class_names=class_names)))
            group, _ = created[0]
            staging_path = temporary / STAGING_NAME
            staging = np.memmap(staging_path, dtype=dtype, mode="w+", shape=shape)
            _reserve_disk(staging_path, path)
        yield staging  # (the caller's errors are its own: not named as the output's)
        with naming_errors(path, temporary):
            levels = pyramid_levels or default_pyramid_levels(stored_shape[-2:])
            _write_levels(group, staging, [axes.index(a) for a in stored_axes], stored_axes,
                          scale=scale, units=units, levels=levels)
            del staging
            remove_quietly(staging_path)  # (where the caller's map keeps it, it stays hidden)
            commit(temporary, path)
    except BaseException:
        settle_zarr_writes()  # (a write still in flight would make the folder again)
        remove_quietly(temporary)
        raise


def _write_levels(group, staging: np.memmap, order: list[int], stored_axes: str, *, scale,
                  units, levels: int) -> None:
    """Level 0 and the pyramid of ``group`` from ``staging`` (transposed by ``order`` to
    the stored axes), handing back its mapped pages every 64 MiB read; an interruption
    stops it between two slabs (``run_interruptibly``)."""
    from unet_studio.app.io.zarr_write import add_pyramid, fill_level
    from unet_studio.models.mapped import PageReleaser

    staging.flush()
    pages = PageReleaser(staging, every_bytes=RELEASE_EVERY_BYTES)
    stored = staging.transpose(order)

    def write(check) -> None:
        def after_slab(nbytes: int) -> None:
            pages.tick(nbytes)
            check()

        fill_level(group["0"], stored, stored_axes, after_slab=after_slab)
        add_pyramid(group, stored_axes, scale, units, levels, source=stored, after_slab=after_slab)

    try:
        run_interruptibly(write)
    finally:
        pages.release()


@contextmanager
def _tiff_output(path: Path, shape, dtype, *, axes, scale, units, kind, channel_names,
                 class_names, ome, compress_below):
    import tifffile

    from unet_studio.app.io.tiff_write import tiff_layout, tiff_options

    if not axes.endswith("YX"):
        raise ValueError(f"a streamed TIFF needs Y and X as its last axes (got {axes}); write .zarr instead")
    imagej, file_axes = tiff_layout(axes, dtype, shape, ome=ome)
    if file_axes != axes:  # ImageJ would reorder: OME-TIFF keeps the caller's order
        imagej, file_axes = False, axes
    options = tiff_options(imagej, axes, shape, dtype, scale=scale, units=units, kind=kind,
                           channel_names=channel_names, class_names=class_names)
    temporary = temporary_sibling(path)
    try:
        with naming_errors(path, temporary):
            mapped = tifffile.memmap(temporary, shape=shape, dtype=dtype, **options)
            _reserve_disk(temporary, path)
        yield mapped  # (the caller's errors are its own: not named as the output's)
        with naming_errors(path, temporary):
            mapped.flush()
            del mapped
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if not stays_uncompressed(path, nbytes, compress_below):
                _compress_into(path, temporary, shape=shape, axes=axes, scale=scale,
                               units=units, kind=kind, dtype=dtype, ome=not imagej,
                               channel_names=channel_names, class_names=class_names)
            else:
                commit(temporary, path)
    except BaseException:
        remove_quietly(temporary)
        raise


def _reserve_disk(temporary: Path, path: Path) -> None:
    """The streamed file's disk space, taken now: tifffile and numpy leave it sparse, and a
    page of a memory map that finds the disk full when first written kills the process
    (SIGBUS)."""
    from unet_studio.app.errors import UserError
    from unet_studio.models.scratch import DiskSpaceError, reserve_space

    nbytes = temporary.stat().st_size
    with open(temporary, "r+b") as handle:
        try:
            reserve_space(handle.fileno(), nbytes, path.parent, f"the output {path.name}",
                          hint="or write it to another disk")
        except DiskSpaceError:
            raise UserError(_short_of_space(path, nbytes)) from None


def _short_of_space(path: Path, nbytes: int) -> str:
    """The full-disk message, naming the output (the engine's, ``reserve_space``, names the
    temporary file it was reserved for), in readable units."""
    import shutil

    from unet_studio.models.size_text import size_text

    try:
        have = f", {size_text(shutil.disk_usage(path.parent).free)} free"
    except OSError:
        have = ""
    return (f"not enough disk space in {path.parent} for the output {path.name} "
            f"({size_text(nbytes)}{have}); free some space or write it to another disk")


def _compress_into(path: Path, temporary: Path, *, shape, axes, scale, units, kind, dtype,
                   ome, channel_names, class_names) -> None:  # fmt: skip
    """Rewrite the streamed (uncompressed) ``temporary`` as a zlib TIFF at ``path``.

    Why a second pass instead of compressing while tiles arrive: a compressed TIFF stores
    each page's strips whole and in page order, but tiles finish in any order (3D tiles span
    many pages, the visible region may run first, blended tiles rewrite their overlaps), so
    nothing is known to be final before the run ends. The pass reads pages the run has just
    written (from the page cache, not the disk), compresses them on tifffile's threads, and
    is bounded by ``compress_below`` (a 512 MiB mask: 14-50 s of zlib on 2 shared cores,
    against many minutes of prediction), for files 15-70x smaller (masks, labels). Mapped
    pages are handed back every 64 MiB, so the pass adds at most that to the RSS.
    """
    import tifffile

    from unet_studio.app.io.tiff_write import write_tiff
    from unet_studio.models.mapped import PageReleaser

    # (tifffile drops axes of length 1 when it maps the file back: the shape it was made with)
    written = tifffile.memmap(temporary, mode="r").reshape(shape)
    pages = PageReleaser(written, every_bytes=RELEASE_EVERY_BYTES)

    def plane_released_soon(plane: np.ndarray) -> np.ndarray:
        pages.tick(plane.nbytes)  # a released page is mapped again from the cache if re-read
        return np.asarray(plane)

    try:
        write_tiff(path, written, axes=axes, scale=scale, units=units, kind=kind, dtype=dtype,
                   convert=plane_released_soon, ome=ome, channel_names=channel_names,
                   class_names=class_names)
    finally:
        pages.release()
        del written
    remove_quietly(temporary)
