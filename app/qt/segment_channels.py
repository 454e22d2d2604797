"""Which channels of an image the Segment panel hands the model, as the CLI does: the
logic lives in ``app.model_channels`` (Qt-free, shared with fine-tuning); this module keeps
the names the panel imports."""

from __future__ import annotations

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
