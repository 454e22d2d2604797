"""References from a project to the image files it works on (the pixels are not copied)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class ImageRef:
    """An image of a project.

    ``id``: stable folder-safe name under ``images/``; ``path``: the file (absolute, or
    relative to the project folder); ``axes``: over "TZCYX" as the file is read;
    ``selection``: what is segmented, JSON-able, e.g. ``{"C": 0, "Z": [10, 40]}``;
    ``shape``/``dtype``: of the labels that go with it, when known; ``scale``: micrometres
    per pixel by axis letter.
    """

    id: str
    path: str
    name: str
    axes: str
    selection: dict = field(default_factory=dict)
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    scale: dict = field(default_factory=dict)

    def __post_init__(self):
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", self.id) or self.id.startswith("."):
            raise ValueError(f"image id {self.id!r} must use letters, digits, '_', '-', '.'")
        if not self.axes or set(self.axes) - set("TZCYX") or len(set(self.axes)) != len(self.axes):
            raise ValueError(f"axes must be distinct letters of TZCYX, got {self.axes!r}")
        try:
            json.dumps(self.selection)
        except TypeError as error:
            raise ValueError(f"selection must be JSON-able: {error}") from None
        if self.shape is not None:
            object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        if self.dtype is not None:
            object.__setattr__(self, "dtype", str(self.dtype))

    def to_dict(self) -> dict:
        data = asdict(self)
        data["shape"] = list(self.shape) if self.shape is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ImageRef:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def new_image_id(name: str, taken: set[str]) -> str:
    """A folder-safe id derived from ``name`` that is not in ``taken``."""
    stem = name.split(".")[0] if not name.startswith(".") else name
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "image"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate
