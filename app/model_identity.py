"""Which model a recorded ref means: its identity, the SHA-256 of its ``model.safetensors``.

A ref ("user:nuclei-A") names a folder in one library; a project or a round's lineage
copied to another user's library may find a different model under that name. So the app
records the identity with each ref it stores (a project's current model, a round's parent)
and, where the ref's model has another identity, looks for the one with that identity
(project models first), else tells the model missing. Copies, exports, imports, renames and
duplicates keep the weights' bytes, hence the identity.

The identity is read from ``config.json`` (``weights_sha256``, written at save since it was
introduced), else the weights file is hashed (bytes, never loaded), once per file version:
cached by path, modification time and size.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from unet_studio.app.errors import UserError
from unet_studio.app.model_folder import ModelInfo
from unet_studio.app.weights_header import WEIGHTS_FILE

SEARCH_ORDER = ("project", "user", "bundled")  # where a model is looked for by its identity


class NotThisModel(UserError):
    """The ref's model is another model than the one recorded (same name, other weights),
    and the recorded one is nowhere in this library."""

    def __init__(self, ref: str):
        super().__init__(f"{ref} is not in this library (a different model has that name "
                         "here)")
        self.ref = ref


def identity_of(info: ModelInfo) -> str | None:
    """The model's identity: as recorded at save, else its weights' hash (None when its
    weights cannot be read: such a model is no model a recorded identity means)."""
    recorded = getattr(info, "weights_sha256", None)
    if recorded:
        return recorded
    try:
        path = Path(info.path) / WEIGHTS_FILE
        stat = path.stat()
        return _file_sha256(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    except (AttributeError, TypeError, OSError):  # (no folder: a model held in memory only)
        return None


@lru_cache(maxsize=256)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    """(Keyed by the file's version too: a file replaced in place is hashed again.)"""
    from unet_studio.models.weights import weights_sha256

    return weights_sha256(path)


def with_identity(models: list[ModelInfo], identity: str) -> ModelInfo | None:
    """The first of ``models`` (in ``SEARCH_ORDER`` of their sources) with ``identity``.
    Those with a recorded identity are compared first, so that the weights of older
    folders are hashed only when no recorded one matches."""
    ordered = sorted(models, key=lambda info: _rank(info.source))
    for info in ordered:
        if info.weights_sha256 == identity:
            return info
    for info in ordered:
        if not info.weights_sha256 and identity_of(info) == identity:
            return info
    return None


def _rank(source: str) -> int:
    return SEARCH_ORDER.index(source) if source in SEARCH_ORDER else len(SEARCH_ORDER)
