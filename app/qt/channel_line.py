"""The Segment panel's line under the Model box saying that the model chosen cannot take
the image's channels ("c2 takes 2 channels, hela has 1: ..."), shown as soon as the image
or the model is chosen: the user learnt it only at Run, after setting everything up.

Run stays clickable (a greyed button tells nothing) and refuses with the same words: the
line is ``segment_channels.channel_refusal``, Run's own check. A model taking one channel
on a multichannel image is no refusal: the Channel box picks the channel.

The line wraps in the width the panel has and asks for none (``saved_work_line.NamesLabel``):
image and model names are long and unbroken, and a plain word-wrapped label widened the dock.
"""

from __future__ import annotations

from qtpy.QtWidgets import QFormLayout

from unet_studio.app.qt.alive import alive
from unet_studio.app.qt.saved_work_line import NamesLabel, breakable
from unet_studio.app.qt.segment_channels import channel_refusal


class ChannelLine(NamesLabel):
    """Hidden while the model chosen can take the image chosen."""

    reason: str | None = None  # (what the line says; None while hidden)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setVisible(False)
        self.setToolTip("The model cannot take this image's channels: choose another image or "
                        "another model")

    def follow(self, panel) -> bool:
        """Show why Run would refuse the channels of ``panel``'s (a SegmentPanel) image,
        axes, channel and model, or hide; True when the line appeared or went."""
        if not alive(self) or panel._widgets_gone():  # (a late signal on a closed panel)
            return False
        host = panel.session.host
        return self.show_reason(channel_refusal(host, host.current_image(), panel.axes_edit.text(),
                                                panel.session.model, panel._chosen_channel()))

    def show_reason(self, reason: str | None) -> bool:
        """Say ``reason`` (None: hide); True when the line appeared or went."""
        was_shown = not self.isHidden()
        self.reason = reason
        self.setText(breakable(reason or ""))
        self.setVisible(reason is not None)
        return was_shown != (reason is not None)

    def quiet_ready_line(self, panel) -> None:
        """While the line is shown, the status line does not say what Run will do ("Run
        segments hela with c2 ...", under a line saying it will not); other lines (a
        refusal, a Done line, Run greyed for the axes) stay."""
        if (alive(self) and not self.isHidden() and panel.worker is None
                and panel.run_button.isEnabled() and panel.status.text() == panel._ready_said):
            panel.status.setText("")


def add_channel_line(panel) -> ChannelLine:
    """A ChannelLine in ``panel``'s settings form, across it, under the Model row (where
    the choice that may not fit is made)."""
    form = panel.settings.layout()
    line = ChannelLine()
    form.insertRow(_model_row(form, panel.model_combo) + 1, line)
    return line


def _model_row(form: QFormLayout, model_combo) -> int:
    for row in range(form.rowCount()):
        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if field is not None and field.layout() is not None and field.layout().indexOf(model_combo) >= 0:
            return row
    return form.rowCount() - 1
