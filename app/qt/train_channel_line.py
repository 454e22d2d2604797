"""The Train panel's line saying that the current model cannot learn from the current
image's channels (a 2-channel model on a 1-channel image), above Train: shown as soon as
the image or the model changes, where Train said it only when pressed. Train stays
clickable and refuses in the same words (``train_channel_refusal`` is the round's own
check, ``train_logic._current_examples``)."""

from __future__ import annotations

from unet_studio.app.errors import UserError
from unet_studio.app.qt.alive import alive
from unet_studio.app.qt.channel_line import ChannelLine


def train_channel_refusal(session) -> str | None:
    """Why Train would refuse the channels of the current image for the current model, else
    None. The same calls as the round's collection of the current image: its channel layers
    stacked for a model taking several (refused whatever is reviewed), then, where it has
    reviewed marks, the channel to learn from (the one it was segmented on). An image taken
    out of the project is not learnt from: nothing to refuse. Reads no pixels."""
    from unet_studio.app.training_data import channel_to_learn, model_in_channels, training_image

    host, model = session.host, session.model
    layer = host.current_image()
    if model is None or layer is None or session.current_left_out() is not None:
        return None
    in_channels = model_in_channels(model)
    try:
        image = training_image(host, layer, in_channels, model.name)
        regions = session.ensure_reviewed()
        if regions is not None and regions.any():
            channel_to_learn(image.axes, image.shape, session.image_channel(session.current_image_id()),
                             in_channels, name=image.name, model_name=model.name)
    except UserError as error:
        return str(error)
    return None


class TrainChannelLine(ChannelLine):
    """Follows the session's model, image and reviewed marks by itself."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setToolTip("Train refuses this model on this image: choose another image or "
                        "another model")
        for signal in (session.model_changed, session.reviewed_changed, session.labels_replaced,
                       session.project_changed):
            signal.connect(self.follow)
        host = session.host
        for connect in ("connect_active_layer_changed", "connect_layers_changed"):
            if hasattr(host, connect):
                getattr(host, connect)(self.follow)
        self.follow()

    def follow(self, *_args) -> None:
        if alive(self):  # (the host's layer listeners outlive a closed panel)
            self.show_reason(train_channel_refusal(self.session))


def add_train_channel_line(panel) -> TrainChannelLine:
    """A TrainChannelLine in ``panel``'s (a TrainPanel) body, just above Train."""
    line = TrainChannelLine(panel.session)
    layout = panel.status.parentWidget().layout()
    for index in range(layout.count()):
        row = layout.itemAt(index).layout()
        if row is not None and row.indexOf(panel.train_button) >= 0:
            layout.insertWidget(index, line)
            return line
    layout.insertWidget(layout.indexOf(panel.status), line)
    return line
