"""The hint that a run's objects are doubtful: the model was unsure of much of what it called
objects (``models.object_confidence``), as on images unlike those it was trained for. Said
by the Segment panel's Done line and by ``unet-studio predict``'s line per file, each
with its own way to fix it (the Train panel, ``unet-studio finetune``).
"""

from __future__ import annotations

# Above this share of unsure object pixels the result gets the hint. The default nuclei
# model measured 1.2-3.6 % on the nuclei it knows (HeLa, Hoechst, cells3d slices) against
# 12.5 % on a phase-contrast E. coli image and 16.6 % on a synthetic-nuclei slice, where
# it gave junk: 8 % sits between them, with room on both sides.
UNSURE_SHARE_HINT = 0.08
# ...and over at least this many object pixels: object edges hesitate on any image, so over
# a few small objects the share is noise (32 x 32 crops of those nuclei, 12-500 object
# pixels each, gave up to 36 %); from 1000 pixels on (a handful of nuclei) it settles.
MIN_OBJECT_PIXELS = 1000


def unsure_share_text(confidence) -> str:
    """"the model was unsure of 13 % of what it called objects", or "" when ``confidence``
    (an ObjectConfidence, or None) is under the hint's share or counts too few object
    pixels to tell: then nothing is said."""
    if confidence is None or confidence.object_pixels < MIN_OBJECT_PIXELS:
        return ""
    if confidence.unsure_share <= UNSURE_SHARE_HINT:
        return ""
    return f"the model was unsure of {round(100 * confidence.unsure_share)} % of what it called objects"


def unsure_text(confidence) -> str:
    """``unsure_share_text`` and what it may mean: "...: it may not know images like these"
    (or "")."""
    share = unsure_share_text(confidence)
    return f"{share}: it may not know images like these" if share else ""
