"""The Segment panel's Done line: a finished run's summary in the status line, and the
choice it is about.

Of the panel's status lines, only this one describes a particular image and model ("Done:
nuclei segmented with tiny: 40 objects."): left standing after the user picked another
image or model, it read as "this one is segmented already". The others (a run refused, an
error, an image closed under a run, a cancel) tell of an event and stay until the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class DoneLine:
    """``image``: the segmented image's name (its name now: it follows a rename);
    ``model_path``: the folder of the model the run used; ``objects``: what the run found,
    as the line ends (": 40 objects", or "" when nothing was counted)."""

    image: str
    model_path: Path
    model_name: str
    objects: str = ""

    def text(self) -> str:
        return f"Done: {self.image} segmented with {self.model_name}{self.objects}."

    def renamed(self, old: str, new: str) -> DoneLine:
        """The line after the user renamed image ``old`` to ``new``: the same image, the
        same run, under its new name (another image renamed leaves it as it is)."""
        return replace(self, image=new) if self.image == old else self

    def is_about(self, image, model) -> bool:
        """Whether Run would now segment the same image (a HostImage) with the same model
        (a ModelInfo) as the run this line sums up."""
        if image is None or model is None or image.name != self.image:
            return False
        return _same_folder(model.path, self.model_path)


def _same_folder(a, b) -> bool:
    # (a folder chosen again by path may be spelt otherwise: "./tiny", "tiny/")
    return Path(a).resolve() == Path(b).resolve()
