"""Examples from earlier fine-tuning rounds, kept so that a new round does not forget them.

Each example is cropped to its reviewed region (plus some context) when added, replacing an
older example of the same image; the oldest go first when the buffer is over its pixel
budget. An example keeps the intensity percentiles of its whole source image. Saved as one
compressed ``.npz`` (plain arrays, loaded with ``allow_pickle=False``), written atomically.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from unet_studio.models.files import atomic_write_bytes
from unet_studio.models.training.examples import SourceIntensity, TrainingExample, crop_to_reviewed

FILENAME = "replay.npz"
FIELDS = ("image", "labels", "reviewed", "changed")


class ReplayBuffer:
    """Up to ``max_pixels`` labelled pixels of earlier examples, newest kept."""

    def __init__(self, max_pixels: int = 16_000_000, margin: int = 32):
        if max_pixels <= 0:
            raise ValueError(f"max_pixels must be > 0, got {max_pixels}")
        self.max_pixels, self.margin = int(max_pixels), int(margin)
        self._examples: list[TrainingExample] = []

    def __len__(self) -> int:
        return len(self._examples)

    @property
    def examples(self) -> list[TrainingExample]:
        return list(self._examples)

    @property
    def pixels(self) -> int:
        return sum(e.labels.size for e in self._examples)

    def add(self, examples) -> None:
        """Add copies of the reviewed parts of ``examples``, each replacing an older one of
        the same name (the newer corrections of that image); drop the oldest if over budget."""
        for example in examples:
            cropped = crop_to_reviewed(example, self.margin)
            if cropped is None:
                continue
            if cropped.name:
                self._examples = [e for e in self._examples if e.name != cropped.name]
            self._examples.append(cropped)
        while len(self._examples) > 1 and self.pixels > self.max_pixels:
            self._examples.pop(0)

    def rename(self, old: str, new: str) -> bool:
        """Examples of image ``old`` now belong to ``new`` (the image was renamed), so that
        its newer corrections replace them; True when any did."""
        import dataclasses

        found = [e for e in self._examples if e.name == old]
        self._examples = [dataclasses.replace(e, name=new) if e.name == old else e
                          for e in self._examples]
        return bool(found)

    def drop(self, name: str) -> bool:
        """Forget the examples of image ``name`` (taken out of the project by the user: a
        bad image, a wrong channel, kept out of training); True when there were some."""
        kept = [e for e in self._examples if e.name != name]
        dropped = len(kept) != len(self._examples)
        self._examples = kept
        return dropped

    def save(self, directory) -> Path:
        arrays = {}
        for i, example in enumerate(self._examples):
            for name in FIELDS:
                arrays[f"{i}_{name}"] = getattr(example, name if name in ("image", "labels")
                                                else f"{name}_mask")
            arrays[f"{i}_name"] = np.array(example.name)
            if example.intensity is not None:
                intensity = example.intensity
                arrays[f"{i}_percentiles"] = np.array([intensity.lower, intensity.upper])
                arrays[f"{i}_range"] = np.stack([intensity.low, intensity.high])
        buffer = io.BytesIO()
        np.savez_compressed(buffer, count=np.array(len(self._examples)), **arrays)
        return atomic_write_bytes(Path(directory) / FILENAME, buffer.getvalue())

    @classmethod
    def load(cls, directory, **kwargs) -> ReplayBuffer:
        """A buffer read from ``directory`` (empty if it has no saved buffer)."""
        buffer = cls(**kwargs)
        path = Path(directory) / FILENAME
        if not path.exists():
            return buffer
        with np.load(path, allow_pickle=False) as data:
            for i in range(int(data["count"])):
                fields = {name: data[f"{i}_{name}"] for name in FIELDS}
                intensity = None
                if f"{i}_range" in data:  # buffers saved before this field have none
                    lower, upper = data[f"{i}_percentiles"].tolist()
                    low, high = data[f"{i}_range"]
                    intensity = SourceIntensity(lower, upper, low, high)
                buffer._examples.append(TrainingExample(**fields, name=str(data[f"{i}_name"]),
                                                        intensity=intensity))
        return buffer
