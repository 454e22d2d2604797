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

from unet_studio.app.errors import InputFileError
from unet_studio.app.model_checks import is_untrained, scratch_warning
from unet_studio.app.model_folder import read_model_config


@dataclass(frozen=True)
class DoneLine:
    """``image``: the segmented image's name (its name now: it follows a rename);
    ``model_path``: the folder of the model the run used; ``objects``: what the run found,
    as the line ends (": 40 objects", or "" when nothing was counted); ``unsure``: what
    ``unsure_hint.unsure_share_text`` says of the run ("" when the model was sure enough)."""

    image: str
    model_path: Path
    model_name: str
    objects: str = ""
    # (read from the model's folder when the line is made: the model the run used)
    untrained: bool | None = None
    unsure: str = ""
    fine_tuned: bool | None = None  # (the model has a parent: the user trained it already)
    # (a network trained from random weights for a few steps only: ``scratch_warning``)
    hardly_trained: str | None = None

    def __post_init__(self):
        if None in (self.untrained, self.fine_tuned, self.hardly_trained):
            metadata = _metadata(self.model_path)
            known = {"untrained": is_untrained(metadata), "fine_tuned": bool(metadata.get("parent")),
                     "hardly_trained": scratch_warning(self.model_name, metadata)}  # fmt: skip
            for key, value in known.items():
                if getattr(self, key) is None:
                    object.__setattr__(self, key, value)

    def text(self) -> str:
        done = f"Done: {self.image} segmented with {self.model_name}{self.objects}."
        if self.untrained:  # (its labels are noise: said where the result is announced)
            done += f" {self.model_name} is untrained (random weights): train it in the Train panel."
        elif self.hardly_trained:  # (accepted, it is no longer marked untrained)
            done += f" {self.hardly_trained}."  # (it starts with the name, as given)
        elif self.unsure and self.fine_tuned:
            # (a model fine-tuned on these images, F1 0.78 on new frames, was unsure of 11 %,
            # and was told, as the default on them, that it may not know such images)
            done += (f" {self.unsure[0].upper()}{self.unsure[1:]}: check those first "
                     "(Correct: Find objects to check), then Train again.")
        elif self.unsure:  # (junk objects counted as cells: said with the count)
            done += (f" {self.unsure[0].upper()}{self.unsure[1:]}: it may not know images like "
                     "these; correct a few objects and Train.")
        return done

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


def _metadata(model_path) -> dict:
    """The model folder's metadata ({} where it cannot be read: a folder removed meanwhile)."""
    try:
        return read_model_config(model_path).get("metadata") or {}
    except InputFileError:
        return {}
