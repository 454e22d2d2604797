"""What ``unet-studio predict`` says on stderr besides progress: the notes on an input
(other series, guessed axes), on the options (a small --tile, object flags a semantic model
ignores) and on a result (left uncompressed, a model unsure, wide label ids), and the batch's
last line.

Apart from the command's flow (``predict``) because each note is a judgement with its own
wording, and the flow reads better as the steps it takes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Labels to a .tif are a uint16 ImageJ hyperstack (what Fiji's File > Open reads with axes and
# calibration); when ids do not fit they stay int32, which only OME-TIFF holds.
WIDE_LABELS_NOTE = ("labels with ids above 65535 written as 32-bit OME-TIFF; Fiji opens them "
                    "via Bio-Formats")


def uncompressed_note(target: Path, nbytes: int) -> str:
    """"; left uncompressed (...)" when ``open_output`` kept a big TIFF as streamed (a 5 GiB
    labels file instead of a ~100 MiB one would surprise), else ""."""
    from unet_studio.app.io.output import stays_uncompressed, uncompressed_reason

    if not stays_uncompressed(target, nbytes):
        return ""
    return (f"; {uncompressed_reason(nbytes)}: write a .zarr output for a compressed one, or "
            "compress this TIFF afterwards")


def unsure_note(confidence) -> str:
    """"; the model was unsure of 13 % of what it called objects: ..." when it was unsure of
    much of them (``unsure_hint``), with what to do about it from the command line; else ""."""
    from unet_studio.app.unsure_hint import unsure_text

    text = unsure_text(confidence)
    if not text:
        return ""
    return f"; {text}; correct a few objects and fine-tune it on them (unet-studio finetune)"


def note_small_tile(net, tile: int | None, stacks: list) -> None:
    """Say what a --tile much smaller than the network's halo costs (once, for the first
    input: the others pay the same per pixel)."""
    from unet_studio.app.predict_files import plan_stack
    from unet_studio.app.tile_advice import small_tile_warning

    if tile is None or not stacks:
        return
    layout = plan_stack(net, stacks[0])
    warning = small_tile_warning(net, tile, layout.spatial_shape, stacks[0].name)
    if warning:
        sys.stderr.write(f"unet-studio: warning: {warning}\n")


def note_other_series(stack, series: int | None) -> None:
    """Say so when a multi-series file is segmented for its first image only."""
    count = stack.metadata.get("series_count", 1)
    if series is None and count > 1:
        sys.stderr.write(f"{stack.path}: holds {count} image series; segmenting the first "
                         "(--series N for another)\n")


def note_guessed_axes(stack, axes: str | None) -> None:
    """Say so when the file does not name its axes: a plain multi-page TIFF of a time-lapse
    would otherwise be segmented as one 3D volume without a word."""
    if axes is None and stack.metadata.get("axes_source") == "guessed":
        hint = (f"--axes T{stack.axes[1:]} if it is a time series" if stack.axes[0] == "Z"
                else "--axes to set them")
        sys.stderr.write(f"{stack.path}: axes not stated in the file, read as {stack.axes} "
                         f"({hint})\n")


# The flags of the "instance labels" group, by their post-processing option.
OBJECT_FLAGS = {"min_size": "--min-size", "seed_height": "--seed-height",
                "link_over_time": "--no-time-links", "link_max_gap": "--max-gap"}


def note_object_options(args: argparse.Namespace, net) -> None:
    """A semantic model puts out classes, not objects: the object flags given do nothing
    for it. Said in one line (a user who typed --min-size expects small specks dropped) and
    left out of the run."""
    task = getattr(net, "task", None)
    given = [flag for key, flag in OBJECT_FLAGS.items() if key in args.postprocess]
    if task is None or task.kind != "semantic" or not given:
        return
    sys.stderr.write(f"{', '.join(given)}: not applied; this model puts out classes "
                     f"({', '.join(task.class_names)}), not objects, and "
                     f"{'these options shape' if len(given) > 1 else 'this option shapes'} "
                     "objects only\n")
    args.postprocess = {}


def batch_summary(written: int, skipped: int) -> str:
    """The last line of a run over several inputs (the skipped ones counted)."""
    text = f"{written} output{'s' * (written != 1)} written"
    return text + (f", {skipped} skipped (already there)" if skipped else "")
