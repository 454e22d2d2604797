"""Is a file given as labels really a label image? The check the commands that read label
files (``measure``, ``finetune``) share, so that one file is refused by all of them in the
same words.

An intensity image passed where labels are expected (swapped arguments, the same file twice)
has an integer type and the right shape, so only its pixels give it away: one plane is read
(lazily) and ``measure_inputs.looks_like_intensities`` judges it.

A class map is not judged: its classes are named (the file records them, or the user gave
them), and one from an undertrained model on noisy data is speckled, most neighbouring pixels
differing just as an intensity image's do.
"""

from __future__ import annotations

from unet_studio.app.errors import InputFileError

INTENSITIES_PROBLEM = "looks like an intensity image, not labels (most neighbouring pixels differ)"


def refuse_intensities(stack, advice: str, *, class_names=None) -> None:
    """InputFileError naming ``stack``'s file when its middle plane looks like intensities;
    ``advice``: what to give instead, in the caller's terms (its flags, its arguments).

    ``stack``: an opened ``app.io`` Stack (its pixels left on disk); the plane is its last
    two axes at the middle of every other axis. ``class_names``: the classes the user says
    the file holds (``--classes``, a semantic ``--model``); with them, or when the file
    records its own, nothing is read: it is a class map, however speckled."""
    from unet_studio.app.measure_inputs import file_classes, looks_like_intensities

    if class_names or file_classes(stack):
        return
    middle = tuple(n // 2 for n in stack.shape[:-2])
    if looks_like_intensities(stack.data[middle]):
        raise InputFileError(stack.path, f"{INTENSITIES_PROBLEM}; {advice}")
