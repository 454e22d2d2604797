"""A label array on disk as compressed chunk files, so a small edit rewrites one small file.

Layout of a store folder::

    array.json            {"format", "format_version", "shape", "dtype", "chunks",
                          "generation"} (the version this build reads: ``format_versions``)
    g000001/3.0.1.npy.zst chunk (3, 0, 1): array[3:4, 0:512, 512:1024] as .npy, zstd-compressed

Chunks are one plane deep on leading axes and up to 512×512 on the last two, so a 2D edit
in a ``(Z, Y, X)`` stack touches one to four chunks. All-zero chunks have no file (missing =
background). The chunks of one write (an edit of a 3D object spans many) are staged in a
``journal`` folder, committed by one atomic file and then moved into place; a change of
shape or dtype writes a complete new generation folder before ``array.json`` switches to
it. So a killed writer leaves either the old array or the new one, never a mix.
Chunks are plain ``.npy`` (``allow_pickle=False``) compressed with zstd, which is 10-20x
faster than the zlib of ``.npz`` both ways, so reopening a 256 MiB stack takes well under
a second.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from unet_studio.app.atomic import atomic_write_bytes, atomic_write_json
from unet_studio.app.format_versions import CHUNKS, check_version
from unet_studio.models.scratch import scratch_zeros

log = logging.getLogger(__name__)

FORMAT = CHUNKS.name
MANIFEST = "array.json"
JOURNAL = "journal"  # chunks of one write staged here, then moved into place
COMMIT = "commit.json"  # in the journal: the staged write is complete and must be applied
PLANE_CHUNK = 512
CHUNK_SUFFIX = ".npy.zst"

ChunkKey = tuple[int, ...]


def chunk_shape_for(shape: tuple[int, ...]) -> tuple[int, ...]:
    """One plane deep on leading axes, up to 512 on the last two (262144 for 1D)."""
    if len(shape) == 1:
        return (max(1, min(shape[0], PLANE_CHUNK * PLANE_CHUNK)),)
    lead = (1,) * (len(shape) - 2)
    return lead + tuple(max(1, min(n, PLANE_CHUNK)) for n in shape[-2:])


def chunk_region(key: ChunkKey, chunks: tuple[int, ...], shape: tuple[int, ...]):
    """The slices of the array that chunk ``key`` covers (clipped at the far edges)."""
    return tuple(slice(k * c, min((k + 1) * c, n)) for k, c, n in zip(key, chunks, shape))


def chunk_keys_in_region(region: tuple[slice, ...], chunks, shape) -> list[ChunkKey]:
    """Keys of every chunk overlapping ``region`` (slices with explicit bounds)."""
    ranges = []
    for s, c, n in zip(region, chunks, shape):
        start, stop, _ = s.indices(n)
        if stop <= start:
            return []
        ranges.append(range(start // c, (stop - 1) // c + 1))
    return [tuple(k) for k in itertools.product(*ranges)]


class ChunkStore:
    """Reads and writes one chunked label array in ``directory``. Writes happen on the
    autosave thread with snapshot copies; reads at open."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def manifest(self) -> dict | None:
        """The current ``array.json`` contents, or None when nothing was saved yet.
        ValueError when it is none, ``format_versions.NewerFormatError`` (one) when a newer
        unet-studio wrote it: then nothing reads or writes the store (a new generation
        would replace what that version saved)."""
        try:
            data = json.loads((self.directory / MANIFEST).read_text("utf-8"))
        except FileNotFoundError:
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{self.directory / MANIFEST}: not a chunk store manifest")
        check_version(self.directory / MANIFEST, data, CHUNKS)
        return data

    def read(self) -> tuple[np.ndarray | None, list[str]]:
        """The stored array (None if never saved) and a list of problems: chunk files that
        could not be read are reported and left as background instead of failing the open."""
        self.recover()
        manifest = self.manifest()
        if manifest is None:
            return None, []
        shape, chunks = tuple(manifest["shape"]), tuple(manifest["chunks"])
        array = scratch_zeros(shape, np.dtype(manifest["dtype"]))  # a file when too big for RAM
        problems = []
        for path in sorted((self.directory / manifest["generation"]).glob(f"*{CHUNK_SUFFIX}")):
            try:
                key = tuple(int(k) for k in path.name[: -len(CHUNK_SUFFIX)].split("."))
                region = chunk_region(key, chunks, shape)
                block = decode_chunk(path.read_bytes())
                if block.shape != array[region].shape or block.dtype != array.dtype:
                    raise ValueError(
                        f"chunk is {block.shape} {block.dtype}, expected "
                        f"{array[region].shape} {array.dtype}"
                    )
                array[region] = block
            except Exception as error:  # a damaged chunk must not cost the rest of the work
                problems.append(f"{path}: unreadable chunk left empty ({error})")
        return array, problems

    def write_chunks(self, shape, dtype, blocks: dict[ChunkKey, np.ndarray]) -> None:
        """Overwrite chunks of the stored array with snapshot ``blocks`` (chunk key -> block).
        The stored array must have this ``shape`` and ``dtype`` (else ValueError: write a
        complete new generation instead)."""
        manifest = self.manifest()
        dtype = np.dtype(dtype).str
        if (
            manifest is None
            or tuple(manifest["shape"]) != tuple(shape)
            or manifest["dtype"] != dtype
        ):
            raise ValueError(
                f"{self.directory}: stored array is not {tuple(shape)} {dtype}; "
                "write a new generation"
            )
        # One edit can span many chunks (a 3D object, a relabelling): they are staged in a
        # journal, committed by one atomic file, then moved into place, so a writer killed
        # at any moment leaves the array as it was before this write or after it (`recover`).
        self.recover()
        journal = self.directory / JOURNAL
        journal.mkdir()
        written, deleted = [], []
        for key, block in blocks.items():
            block = block() if callable(block) else block
            name = ".".join(map(str, key))
            if block.any():
                atomic_write_bytes(journal / (name + CHUNK_SUFFIX), encode_chunk(block))
                written.append(name)
            else:
                deleted.append(name)  # background needs no file
        atomic_write_json(journal / COMMIT, {"generation": manifest["generation"],
                                             "write": written, "delete": deleted})
        self._apply_journal()

    def recover(self) -> None:
        """Finish a committed journal (a writer killed while moving chunks into place) or
        drop one that was never committed (killed while staging): see ``write_chunks``."""
        journal = self.directory / JOURNAL
        if not journal.exists():
            return
        if (journal / COMMIT).exists():
            self._apply_journal()
        else:
            shutil.rmtree(journal)

    def _apply_journal(self) -> None:
        journal = self.directory / JOURNAL
        commit = json.loads((journal / COMMIT).read_text("utf-8"))
        folder = self.directory / commit["generation"]
        for name in commit["write"]:
            staged = journal / (name + CHUNK_SUFFIX)
            if staged.exists():  # (else moved already, before a kill)
                os.replace(staged, folder / (name + CHUNK_SUFFIX))
        for name in commit["delete"]:
            (folder / (name + CHUNK_SUFFIX)).unlink(missing_ok=True)
        (journal / COMMIT).unlink()  # the write is complete
        shutil.rmtree(journal)

    def write_generation(self, shape, dtype, blocks: dict[ChunkKey, np.ndarray]) -> None:
        """Write a complete array into a fresh generation folder, then switch to it."""
        self.recover()
        old = self.manifest()
        number = int(old["generation"][1:]) + 1 if old else 1
        generation = f"g{number:06d}"
        folder = self.directory / generation
        if folder.exists():  # left by a writer killed before it switched
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for key, block in blocks.items():
            _write_chunk(folder, key, block)
        manifest = {
            "format": FORMAT, "format_version": CHUNKS.version, "shape": list(map(int, shape)),
            "dtype": np.dtype(dtype).str, "chunks": list(chunk_shape_for(tuple(shape))),
            "generation": generation,
        }  # fmt: skip
        atomic_write_json(self.directory / MANIFEST, manifest)
        self.remove_unused_generations()

    def remove_unused_generations(self) -> None:
        """Delete generation folders that ``array.json`` does not name (killed writers)."""
        manifest = self.manifest()
        keep = manifest["generation"] if manifest else None
        for folder in self.directory.glob("g[0-9]*"):
            if folder.is_dir() and folder.name != keep:
                shutil.rmtree(folder, ignore_errors=True)


# Above this many bytes of chunks a save reads them when writing them, not at the call:
# copying the ~250 chunks an edit of every object of a 64 x 1024 x 1024 stack touches cost
# the GUI thread 0.1-0.2 s (and a whole stack may not fit in memory twice).
LAZY_SNAPSHOT_BYTES = 32 << 20


def snapshot_bytes(shape: tuple[int, ...], dtype, keys) -> int:
    """How many bytes :func:`snapshot_chunks` copies for ``keys`` (at most: edge chunks
    are smaller)."""
    return len(keys) * int(np.prod(chunk_shape_for(tuple(shape)))) * np.dtype(dtype).itemsize


def snapshot_chunks(array: np.ndarray, keys: Iterable[ChunkKey], *, lazy: bool = False) -> dict:
    """Copies of the given chunks of ``array``, taken on the caller's thread so that the
    background writer never reads an array that the viewer is changing: cheap for an
    edit's few chunks. ``lazy``: a function per chunk that copies it when called (by the
    writer). Such a copy holds the pixels as of the call or newer, possibly a mix of two
    states of the chunk when the viewer changes it meanwhile; each change reports its
    chunks, which queues their own save after this one, so what is left saved in the end
    is the newest state, never the mix."""
    chunks = chunk_shape_for(array.shape)
    regions = {key: chunk_region(key, chunks, array.shape) for key in keys}
    if lazy:
        return {key: (lambda region=region: np.array(array[region])) for key, region in regions.items()}
    return {key: np.array(array[region]) for key, region in regions.items()}


def all_chunk_keys(shape: tuple[int, ...]) -> list[ChunkKey]:
    return chunk_keys_in_region(tuple(slice(0, n) for n in shape), chunk_shape_for(shape), shape)


def encode_chunk(block: np.ndarray) -> bytes:
    """``.npy`` bytes of ``block`` (never pickled), zstd-compressed."""
    import imagecodecs

    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(block), allow_pickle=False)
    return imagecodecs.zstd_encode(buffer.getvalue(), level=3)


def decode_chunk(data: bytes) -> np.ndarray:
    import imagecodecs

    return np.load(io.BytesIO(imagecodecs.zstd_decode(data)), allow_pickle=False)


def _write_chunk(folder: Path, key: ChunkKey, block) -> None:
    """Write one chunk: an array, or a function giving it (see ``snapshot_chunks``)."""
    block = block() if callable(block) else block
    path = folder / (".".join(map(str, key)) + CHUNK_SUFFIX)
    if not block.any():
        path.unlink(missing_ok=True)  # background needs no file
        return
    atomic_write_bytes(path, encode_chunk(block))  # fsync: survives a power cut
