"""Is a file given as labels really a label image? The check the commands that read label
files (``measure``, ``finetune``) share, so that one file is refused by all of them in the
same words.

An intensity image passed where labels are expected (swapped arguments, the same file twice)
has an integer type and the right shape, so only its pixels give it away: one plane is read
(lazily) and ``measure_inputs.looks_like_intensities`` judges it.
"""

from __future__ import annotations

from unet_studio.app.errors import InputFileError

INTENSITIES_PROBLEM = "looks like an intensity image, not labels (most neighbouring pixels differ)"


def refuse_intensities(stack, advice: str) -> None:
    """InputFileError naming ``stack``'s file when its middle plane looks like intensities;
    ``advice``: what to give instead, in the caller's terms (its flags, its arguments).

    ``stack``: an opened ``app.io`` Stack (its pixels left on disk); the plane is its last
    two axes at the middle of every other axis."""
    from unet_studio.app.measure_inputs import looks_like_intensities

    middle = tuple(n // 2 for n in stack.shape[:-2])
    if looks_like_intensities(stack.data[middle]):
        raise InputFileError(stack.path, f"{INTENSITIES_PROBLEM}; {advice}")
