"""Does the model chosen in the Segment panel fit the image chosen? Told before Run (the
status line, Run greyed with the reason in its tooltip), where a 3D model chosen for a 2D
image used to be refused only at the click.

The check is the run's own (``segment_job.plan_job``, which reads no pixels), so that the
panel never greys Run for what a run would take, nor enables it for what it would refuse.
Channels are left out: they are refused at the click (``segment_channels``).
"""

from __future__ import annotations

from unet_studio.app.errors import UserError
from unet_studio.app.qt.plane_word import stepped_plane_word
from unet_studio.app.qt.segment_job import SegmentRequest, plan_job
from unet_studio.app.qt.segment_tips import TIPS


def model_spatial_axes(model) -> str:
    """What the network of ``model`` (a ModelInfo) sees per sample: "YX" (2D) or "ZYX"."""
    return model.task.get("spatial_axes") or "YX"


def unfit_reason(image, axes: str, model) -> str | None:
    """Why a run would refuse ``model`` on ``image`` (a HostImage) read with ``axes`` (the
    Axes box; empty: the image's own): axes that do not describe it, or that lack one the
    model needs (a 3D model on a 2D image). None when it fits, or nothing is chosen."""
    if image is None or model is None:
        return None
    request = SegmentRequest(model_path=model.path, axes=axes.strip() or None)
    try:
        plan_job(image, request, None, model_spatial_axes(model), None, model.name)
    except UserError as error:
        return str(error)
    return None


def unfit_line(image, model, reason: str) -> str:
    """The status line for a choice Run refuses."""
    return f"Run cannot segment {image.name} with {model.name}: {reason}."


def plane_note(image, axes: str, model) -> str:
    """A sentence for the ready line when a 2D model meets a stack with a Z axis (it is
    segmented one Z plane at a time, as a 3D model would not); else ""."""
    if image is None or model is None:
        return ""
    axes, spatial = (axes.strip() or image.axes).upper(), model_spatial_axes(model)
    if "Z" not in axes or len(spatial) != 2 or "Z" in spatial or len(axes) != len(image.shape):
        return ""
    planes = image.shape[axes.index("Z")]
    return f" {model.name} is a 2D model: it segments the {planes} Z planes plane by plane."


def one_view_scope_text(image, axes: str, model) -> str | None:
    """What "Run on" segments besides the whole stack: the view's time point where only a
    time axis is left beside the model's own axes (a 2D model on a time-lapse, a 3D model
    on a 3D time-lapse; "Current slice" read as a Z plane there), else its slice; None
    where no axis is left (a 2D image, a 3D model on a stack): one view is the whole image."""
    if image is None or model is None:
        return "Current slice"
    word = stepped_plane_word(axes.strip() or image.axes, model_spatial_axes(model))
    return None if word is None else f"Current {word}"


def show_run_refusal(panel, reason: str | None) -> None:
    """Run greyed, its tooltip saying ``reason``; or enabled with its own tooltip (None)."""
    panel.run_button.setEnabled(reason is None)
    panel.run_button.setToolTip(TIPS["run_button"] if reason is None
                                else f"Run is not possible: {reason}")
