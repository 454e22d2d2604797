"""What the Segment panel tells a user who meets it for the first time (no widgets here):
what each control does, why a greyed-out one is greyed out, and what Run will do.

A run takes its settings when it starts: changing them meanwhile did nothing, without a
word. They are locked while it runs, and their tooltips say so.
"""

from __future__ import annotations

from unet_studio.app.class_map import model_classes
from unet_studio.app.model_checks import (
    UNTRAINED_ADVICE,
    is_untrained,
    scratch_warning,
    segment_refusal,
)

# The controls a running prediction has already taken (greyed out until it ends).
RUN_SETTINGS = ("axes_edit", "channel_spin", "model_combo", "model_folder_button",
                "device_combo", "tile_combo", "output_combo", "min_size_spin", "split_spin",
                "scope_stack", "scope_slice")  # fmt: skip

TIPS = {
    "image_combo": "The image to segment (its labels layer is the one you correct)",
    "axes_edit": "The image's axes, one letter each: T time, Z depth, C channel, Y, X (e.g. "
                 "ZYX for a 3D stack, TYX for a time-lapse). Read from the file; type them "
                 "if they are wrong: at Run they become the image's axes (its sliders, "
                 "tools and project follow)",
    "channel_spin": "The channel a model taking one channel is fed; \"luminance\" (RGB "
                    "images): the grey values 0.299 R + 0.587 G + 0.114 B, as the command "
                    "line's --channel luminance",
    "model_combo": "The network that segments: the bundled one, yours, or the project's "
                   "fine-tuned ones (Models panel: import, rename, see their scores)",
    "model_folder_button": "Use a model folder from disk (config.json + model.safetensors) "
                           "without importing it",
    "device_combo": "Where the network runs: \"auto\" takes the GPU when there is one, else "
                    "the CPU",
    "tile_combo": "The image is predicted in tiles of this many pixels a side (with an overlap, "
                  "so the seams do not show). \"auto\" fits them to the device's memory; "
                  "smaller tiles need less memory, larger ones run faster",
    "output_combo": "labels: one id per object, to correct; probabilities: the network's "
                    "raw output per class, as a layer of its own; mask: objects against "
                    "background, as a layer of its own",
    "min_size_spin": "Drop objects smaller than this many pixels (voxels in 3D). \"model\": "
                     "the model's own minimum size",
    "split_spin": "How deep the dip between touching objects must be to split them, in pixels "
                  "(\"model\": the model's own; the bundled model uses 20% of the typical "
                  "object radius). Raise it when single objects come out cut in two (long "
                  "or dividing cells); lower it when touching nuclei stay merged",
    "scope_stack": "Segment every slice and time point of the image",
    "scope_slice": "Segment only the slice (or time point) on screen: quick, to try settings",
    "run_button": "Segment the image with the model; the labels appear tile by tile. Regions "
                  "you marked reviewed keep your corrections",
    "cancel_button": "Stop the run under way; the labels are left as they were before it",
    "stop_keep_button": "Stop the run under way, keeping the time points it has finished "
                        "(their final labels); the others are left as they were before it",
}  # fmt: skip

OBJECTS_ONLY = " (for Output \"labels\" only: the other outputs have no objects)"
SEMANTIC = (" (for an objects model only: {model} is a semantic model, its labels a class map "
            "of {classes}, with no objects to size or split)")
LOCKED = " (locked while the prediction runs: it took this setting when it started)"
RUNNING = "A prediction is running: wait for it to end, or Cancel it"
NOTHING_RUNNING = "Stops a run under way: nothing is running now"
NOT_A_SERIES = ("Stops a run over a time series keeping the time points done: this run "
                "does not stream labels over several time points (Cancel stops it)")


def set_tips(panel, running: bool) -> None:
    """Give each control of ``panel`` (a SegmentPanel) its tooltip for the state it is in:
    running or not, and the Output chosen (object options apply to labels only)."""
    labels = panel.output_combo.currentText() == "labels"
    model = panel.session.model
    classes = model_classes(model)
    for name, tip in TIPS.items():
        if name in ("min_size_spin", "split_spin") and classes:
            tip += SEMANTIC.format(model=model.name, classes=", ".join(classes))
        elif name in ("min_size_spin", "split_spin") and not labels:
            tip += OBJECTS_ONLY
        if running and name in RUN_SETTINGS:
            tip += LOCKED
        getattr(panel, name).setToolTip(tip)
    if running:
        panel.run_button.setToolTip(RUNNING)
        panel.image_combo.setToolTip(TIPS["image_combo"] + LOCKED)
        if not panel.stop_keep_button.isEnabled():
            panel.stop_keep_button.setToolTip(NOT_A_SERIES)
    else:
        panel.cancel_button.setToolTip(NOTHING_RUNNING)
        panel.stop_keep_button.setToolTip(NOTHING_RUNNING)


def axes_guess_note(guess: str | None, axes: str) -> str:
    """What the line under the Axes box says of axes ``axes`` guessed by ``guess``
    (``axes_guess``: "file", "dimensions" or None, nothing to say)."""
    if guess == "file":
        return "guessed — the file does not name its axes; type them if wrong"
    if guess == "dimensions":  # (a script's or the console's array: nothing names them)
        return (f"guessed from the array's {len(axes)} dimensions — no file names its axes; "
                "type them if wrong (TYX for a time-lapse, CYX for channels)")
    return ""


def channel_note(axes: str, shape: tuple, in_channels: int, layers: int = 1) -> tuple[str, str]:
    """(text, tooltip) shown instead of the Channel box where there is no channel to pick:
    an image of one channel, one of the ``layers`` channel layers a file was opened as (the
    channel is picked by picking its layer), or a model that takes all the image's channels."""
    if "C" not in axes and layers > 1 and in_channels == 1:
        return (f"this layer's (one of {layers} channel layers)",
                f"This layer is one channel of a file opened as {layers} channel layers: the "
                "model segments this one. To segment another channel, choose its layer in the "
                "Image list above (or select it in napari's layer list)")
    if "C" not in axes and layers > 1 and in_channels == layers:
        # (the file's channel layers go in together: "one channel" read as only this one)
        return (f"all {layers} channel layers",
                f"The model takes {in_channels} channels: the {layers} channel layers this "
                "file was opened as are fed to it together, in their order, none to pick")
    if "C" not in axes or len(axes) != len(shape):
        return ("— (one channel)", "Not applicable: the image has one channel, nothing to "
                "pick. A box to pick a channel appears for images with several")
    count = shape[axes.index("C")]
    return (f"all {count}", f"The model takes {in_channels} channels: all {count} of the "
            "image's channels are fed to it, none to pick")


def ready_text(image, model) -> str:
    """The first status line: what Run will do, with what (or what is missing first); before
    that, what is wrong with the model: one that cannot segment images (Run refuses it), or
    an untrained one (its labels would be noise)."""
    if model is None:
        return "Choose a model (or import one in the Models panel), then Run."
    refusal = segment_refusal(model)
    if refusal is not None:
        return f"{refusal[0].upper()}{refusal[1:]} (Run refuses it)."
    if is_untrained(model.metadata):
        # (a semantic model paints a class map: its noise is classes, not objects)
        noise = "noise: often one class everywhere" if model_classes(model) else \
            "noise, often one object"
        return f"{model.name}: {UNTRAINED_ADVICE}; Run segments with random weights ({noise})."
    if image is None:
        return (f"Open an image (File > Open, or File > Open Sample), then Run segments it "
                f"with {model.name}.")
    hardly = scratch_warning(model.name, model.metadata)
    if hardly:
        return f"{hardly}. Run segments {image.name} with it all the same."
    return (f"Run segments {image.name} with {model.name} into its labels layer, to correct "
            "in the Correct panel; regions you mark reviewed keep your corrections.")
