"""References from a project to the image files it works on (the pixels are not copied)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from unet_studio.app.errors import InputFileError

SERIES_KEY = "series"  # (the selection's entry naming the image of a multi-series file)


@dataclass(frozen=True)
class ImageRef:
    """An image of a project.

    ``id``: stable folder-safe name under ``images/``; ``path``: the file (absolute, or
    relative to the project folder); ``axes``: over "TZCYX", in the order the image opens
    in (T Z C Y X, RGB colours last: ``app.io.canonical``; earlier versions recorded the
    file's order, which an opening updates: ``project_migrate``);
    ``selection``: what is segmented, JSON-able, e.g. ``{"C": 0, "Z": [10, 40]}``; its
    ``"series"`` (from 0, as ``open_stack(series=...)``): which image of a multi-series file
    it is, recorded only when not the first (see :attr:`series`);
    ``shape``/``dtype``: of the labels that go with it, when known; ``scale``: micrometres
    per pixel by axis letter; ``classes``: what its labels are, as recorded on them
    (``app.class_map``): the class names of a class map, () for objects, None when nothing
    was recorded (a project of an earlier version: the current model's rule decides).
    """

    id: str
    path: str
    name: str
    axes: str
    selection: dict = field(default_factory=dict)
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    scale: dict = field(default_factory=dict)
    classes: tuple[str, ...] | None = None

    def __post_init__(self):
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", self.id) or self.id.startswith("."):
            raise ValueError(f"image id {self.id!r} must use letters, digits, '_', '-', '.'")
        if not self.axes or set(self.axes) - set("TZCYX") or len(set(self.axes)) != len(self.axes):
            raise ValueError(f"axes must be distinct letters of TZCYX, got {self.axes!r}")
        try:
            json.dumps(self.selection)
        except TypeError as error:
            raise ValueError(f"selection must be JSON-able: {error}") from None
        series = self.selection.get(SERIES_KEY, 0)
        if isinstance(series, bool) or not isinstance(series, int) or series < 0:
            raise ValueError(f"selection's series must be a whole number from 0, got {series!r}")
        if self.shape is not None:
            object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        if self.dtype is not None:
            object.__setattr__(self, "dtype", str(self.dtype))
        if self.classes is not None:
            if isinstance(self.classes, str):  # (one name is no list of names: a hand edit)
                raise ValueError(f"classes must be a list of class names, got {self.classes!r}")
            object.__setattr__(self, "classes", tuple(str(name) for name in self.classes))

    @property
    def series(self) -> int:
        """Which image of its file (from 0): a multi-series OME-TIFF or bioformats2raw
        Zarr holds several, and every opening of the file must take this one, else its
        labels lie over another image's pixels. 0 when not recorded (earlier versions, and
        files holding one image)."""
        return int(self.selection.get(SERIES_KEY, 0))

    def to_dict(self) -> dict:
        data = asdict(self)
        data["shape"] = list(self.shape) if self.shape is not None else None
        if self.classes is None:  # (unrecorded: the file stays as earlier versions wrote it)
            del data["classes"]
        else:
            data["classes"] = list(self.classes)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ImageRef:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


MAX_NAME_CHARS = 100  # folder names made from user names (file systems allow 255 bytes)


def safe_name(base: str, limit: int = MAX_NAME_CHARS) -> str:
    """``base`` (ASCII, folder-safe) shortened to ``limit`` characters, a short digest of
    the whole keeping two long names that start alike apart. A folder named after a
    300-character file name cannot be created: every save of that image failed."""
    if len(base) <= limit:
        return base
    digest = hashlib.sha1(base.encode("utf-8")).hexdigest()[:8]
    return f"{base[: limit - 9].rstrip('-.')}-{digest}"


def new_image_id(name: str, taken: set[str]) -> str:
    """A folder-safe id derived from ``name`` that is not in ``taken``."""
    stem = name.split(".")[0] if not name.startswith(".") else name
    base = safe_name(re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "image")
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def image_refs(file: Path, meta: dict) -> list[ImageRef]:
    """The image entries of a ``project.json`` (``file``, for messages); InputFileError
    naming the damaged entry (opening on without it would drop it at the next save)."""
    entries = meta.get("images") or []
    if not isinstance(entries, list):
        raise InputFileError(file, "damaged: its 'images' is not a list")
    refs = []
    for number, entry in enumerate(entries, 1):
        try:
            refs.append(ImageRef.from_dict(entry))
        except (TypeError, ValueError, AttributeError) as error:
            raise InputFileError(file, f"damaged image entry {number} ({error}); fix or "
                                       "remove it in a text editor") from None
    return refs
