"""Which channels of an image the Segment panel hands the model, as the CLI does: the
logic lives in ``app.model_channels`` (Qt-free, shared with fine-tuning); this module keeps
the names the panel imports, and ``channel_refusal``: Run's refusal of a model that cannot
take the image's channels, said as soon as the image or model is chosen."""

from __future__ import annotations

from unet_studio.app.errors import UserError
from unet_studio.app.model_channels import (  # noqa: F401  (re-exported for the panel)
    LUMINANCE,
    ChannelLayers,
    channel_index,
    channel_layers_image,
    channel_mismatch,
    check_labels_align,
    luminance_view,
    offers_luminance,
    picks_one_channel,
    sibling_channel_layers,
)


def model_in_channels(model_info) -> int:
    """The channels the model takes (1 when its config does not say)."""
    from unet_studio.app.training_data import model_in_channels as in_channels

    return in_channels(model_info)


def channel_refusal(host, image, axes: str, model, channel=None) -> str | None:
    """Why Run would refuse ``model`` (a ModelInfo) on the channels of ``image`` (a
    HostImage) read with ``axes`` (the Axes box; empty: the image's own) and ``channel``
    (the Channel box's pick; None: all), else None. The refusal is Run's own: the same
    calls (``channel_layers_image``, then ``channel_index`` as ``plan_job`` makes it), so
    the panel's line and the click's "Not started" never differ. Reads no pixels. Axes that
    do not describe the image are the Axes box's refusal (``segment_fit``), not one of
    channels: None for them."""
    if image is None or model is None:
        return None
    axes = (axes.strip() or image.axes).upper()
    if len(axes) != len(image.shape):
        return None
    in_channels = model_in_channels(model)
    try:
        image, axes, _ = channel_layers_image(host, image, axes, in_channels, None, model.name)
        if "C" in axes:
            channel_index(axes, image.shape, channel, in_channels, image.name, model.name)
    except UserError as error:
        return str(error)
    return None
