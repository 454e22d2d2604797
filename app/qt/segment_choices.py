"""The Segment panel's choices: images, models, devices and object options (a mixin of
SegmentPanel).

Expects the panel's widgets (``image_combo``, ``axes_edit``, ``channel_spin``,
``channel_note``, ``model_combo``, ``device_combo``, ``min_size_spin``, ``split_spin``,
``status``), its ``session``, and
``worker`` and ``_job_image`` (the running prediction and its image's name, or None), and
``_done`` (the last run's Done line, set by ``SegmentOutcome``), and the Axes box's
``_say_axes`` and ``_adopt_recorded_axes`` (``SegmentAxes``, ``segment_axes``).
"""

from __future__ import annotations

from qtpy.QtWidgets import QDoubleSpinBox, QFileDialog, QSpinBox

from unet_studio.app.class_map import model_classes
from unet_studio.app.model_library import where_listed
from unet_studio.app.qt.alive import alive
from unet_studio.app.qt.elided_label import SHOWN_TEXT_ROLE
from unet_studio.app.qt.model_actions import choose_model
from unet_studio.app.qt.segment_channels import (
    LUMINANCE,
    model_in_channels,
    offers_luminance,
    picks_one_channel,
    sibling_channel_layers,
)
from unet_studio.app.qt.segment_fit import (
    one_view_scope_text,
    plane_note,
    show_run_refusal,
    unfit_line,
    unfit_reason,
)
from unet_studio.app.qt.segment_tips import channel_note, ready_text, set_tips


def object_option_spins() -> tuple[QSpinBox, QDoubleSpinBox]:
    """Minimum object size (pixels, voxels in 3D) and split depth (the seed height of the
    watershed, pixels: lower splits small, crowded nuclei more readily); both start at
    "model", the model's own post-processing defaults."""
    min_size = QSpinBox(minimum=-1, maximum=10**7, value=-1, singleStep=10)
    min_size.setSpecialValueText("model")
    split = QDoubleSpinBox(minimum=0.0, maximum=20.0, value=0.0, singleStep=0.5, decimals=1)
    split.setSpecialValueText("model")  # (tooltips: segment_tips)
    return min_size, split


class SegmentChoices:
    """Fills and follows the Segment panel's image, model and device lists."""

    _ready_said = ""  # the status line's last "what Run will do" (replaced while unchanged)
    _typed_axes: dict[str, str]  # image name -> the axes the user typed for it (__init__)
    _channels: dict  # image name -> the channel picked for it (an index or "luminance")
    _showing_channel = False  # the box is being set to an image's channel, not by the user

    def _widgets_gone(self) -> bool:
        """Has Qt deleted some of the panel's widgets under it? Then there is nothing to
        fill. The host's layer listeners outlive a closed panel, and at interpreter exit the
        Axes box, losing the focus as its window goes, still says editing finished when
        the Channel box is gone ("QSpinBox already deleted", from ``_follow_channels``)."""
        widgets = (self.image_combo, self.axes_edit, self.axes_note, self.channel_spin,
                   self.channel_note, self.model_combo, self.status)  # fmt: skip
        return not all(map(alive, widgets))

    def refresh_choices(self) -> None:
        self._fill_images()
        self._fill_models()
        self._fill_devices()

    def _fill_images(self) -> None:
        if self._widgets_gone():  # (a layer listener of the host, on a closed panel)
            return
        host = self.session.host
        names = host.image_names() if hasattr(host, "image_names") else []
        image = host.current_image()
        if not names and image is not None:
            names = [image.name]
        current = self.image_combo.currentText()
        segmenting = self._job_image if self.worker is not None else None
        self.image_combo.blockSignals(True)
        self.image_combo.clear()
        self.image_combo.addItems(names)
        # The session's current image (it follows the layer the user activates), else the
        # panel's earlier choice; during a run, the image being segmented (the user may turn
        # to another one meanwhile: the list says where the results go).
        chosen = image.name if image is not None and image.name in names else current
        self.image_combo.setCurrentText(segmenting or chosen)
        self.image_combo.blockSignals(False)
        # (axes typed for an image closed since do not carry over to a new one of its name)
        self._typed_axes = {k: v for k, v in self._typed_axes.items() if k in names}
        self._channels = {k: v for k, v in self._channels.items() if k in names}
        if segmenting is None:
            self._image_chosen()

    def _image_chosen(self, *_args) -> None:
        if self.image_combo.currentText():
            self.session.select_image(self.image_combo.currentText())
        image = self.session.host.current_image()
        if image is not None and self._adopt_recorded_axes([image.name]):  # (segment_axes)
            image = self.session.host.current_image()
        typed = self._typed_axes.get(image.name) if image is not None else None
        # (what the user typed for this image stands until they change it: a layer added
        # or another image chosen and back refills the list, and used to reset it)
        self.axes_edit.setText(typed or (image.axes if image is not None else ""))
        self._say_axes(image, typed)
        self._follow_channels()
        self._say_ready()

    def _follow_channels(self, *_args) -> None:
        """The Channel box picks one channel only where the model takes fewer than the
        image has (a 1-channel model on an RGB or multichannel image); a model taking them
        all gets them all, as on the command line (``segment_channels``)."""
        if self._widgets_gone():  # (the Axes box's editingFinished, at interpreter exit)
            return
        self._showing_channel = True  # (the box set here is no pick of the user's)
        try:
            self._set_channel_box()
        finally:
            self._showing_channel = False

    def _set_channel_box(self) -> None:
        image = self.session.host.current_image()
        axes = self.axes_edit.text().strip().upper()
        if image is None or len(axes) != len(image.shape):
            axes = image.axes if image is not None else ""
        model = self.session.model
        in_channels = 1 if model is None else model_in_channels(model)
        picks = image is not None and picks_one_channel(axes, image.shape, in_channels)
        self.channel_spin.setEnabled(picks)
        self.channel_spin.setVisible(picks)
        self.channel_note.setVisible(not picks)
        if not picks:
            text, tip = channel_note(axes, image.shape if image is not None else (), in_channels,
                                     self._channel_layers(image, axes))
            self.channel_note.setText(text)
            self.channel_note.setToolTip(tip)
        if picks:
            self._offer_channels(image.shape[axes.index("C")],
                                 offers_luminance(axes, image.shape, in_channels))
            self._show_channel_of(image)
        else:  # (a greyed "0" read as "channel 0 only")
            self.channel_spin.setSpecialValueText("all" if "C" in axes else "-")
            self.channel_spin.setRange(-1, self.channel_spin.maximum())
            self.channel_spin.setValue(-1)

    def _offer_channels(self, size: int, luminance: bool) -> None:
        """Channels 0 to ``size - 1``, and below them "luminance" on a colour image.
        Luminance is the default there: it weighs the three colours as the eye does, so a
        stain shows whatever its hue, where red alone (channel 0) shows only what absorbs
        red (eosin's pink and DAB's brown barely darken it) and carries a third of the
        light; a 1-channel model (the bundled one) expects one grey intensity, which is
        what the CLI's ``--channel luminance`` gives too. A channel the user picked is
        kept while the box keeps offering luminance."""
        offered = self.channel_spin.specialValueText() == LUMINANCE
        self.channel_spin.setSpecialValueText(LUMINANCE if luminance else "")
        self.channel_spin.setRange(-1 if luminance else 0, size - 1)
        if luminance and not offered:
            self.channel_spin.setValue(-1)

    def _channel_layers(self, image, axes: str) -> int:
        """How many channel layers the image's file was opened as (1: it is no channel
        layer), for a 1-channel model: picking a channel is picking its layer then."""
        if image is None or "C" in axes:
            return 1
        return len(sibling_channel_layers(self.session.host, image, image.axes))

    def _show_channel_of(self, image) -> None:
        """The channel this image was given: picked in this panel (kept per image: another
        image chosen and back reset it to luminance), else the one the project recorded at
        its last run (a reopened project), else the box's default."""
        if image.name not in self._channels:
            recorded = self.session.image_channel(self.session.current_image_id())
            if recorded is not None:
                self._channels[image.name] = recorded
        chosen = self._channels.get(image.name)
        value = -1 if chosen == LUMINANCE else chosen
        if isinstance(value, int) and self.channel_spin.minimum() <= value <= self.channel_spin.maximum():
            self.channel_spin.setValue(value)

    def _channel_picked(self, _value) -> None:
        """The user set the Channel box: it stays this image's until they change it."""
        image = self.session.host.current_image()
        if image is not None and self.channel_spin.isEnabled() and not self._showing_channel:
            self._channels[image.name] = self._chosen_channel()

    def _chosen_channel(self) -> int | str | None:
        """The Channel box's choice: an index, "luminance", or None (all channels)."""
        if not self.channel_spin.isEnabled():
            return None
        value = self.channel_spin.value()
        luminance = value == -1 and self.channel_spin.specialValueText() == LUMINANCE
        return LUMINANCE if luminance else value

    def _fill_models(self) -> None:
        if self._widgets_gone():
            return
        self._follow_channels()  # (another model may take another number of channels)
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        models = self.session.library.list()
        current = self.session.model
        if current is not None and all(m.path != current.path for m in models):
            models.append(current)  # a folder chosen by path
        for info in models:
            self.model_combo.addItem(f"{info.name}  ({where_listed(info, models)})", info)
            if sum(other.name == info.name for other in models) == 1:
                # (the box shows the name alone, its list where it is listed: the box's room
                # goes to the end of a fine-tuned name, "-ft-<date>-<time>", not to "(user)")
                self.model_combo.setItemData(self.model_combo.count() - 1, info.name,
                                             SHOWN_TEXT_ROLE)
            if current is not None and info.path == current.path:
                self.model_combo.setCurrentIndex(self.model_combo.count() - 1)
        self.model_combo.blockSignals(False)
        self._output_chosen()  # (a semantic model: the object options greyed)
        self._say_ready()

    def _fill_devices(self) -> None:
        from unet_studio.models.devices import available_devices

        self.device_combo.clear()
        self.device_combo.addItems(["auto", *available_devices()])

    def _model_chosen(self, index: int) -> None:
        info = self.model_combo.itemData(index)
        if info is not None and not choose_model(self.session, info):
            self._fill_models()  # (refused: the box shows the model that stays)

    def _choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder (config.json + model.safetensors)")
        if folder:
            choose_model(self.session, folder)  # (a broken folder: a warning, the model stays)

    def _object_options(self) -> dict:
        """Min size and split depth when set (their lowest value reads "model": keep the
        model's own post-processing defaults)."""
        options = {}
        if self.min_size_spin.value() != self.min_size_spin.minimum():
            options["min_size"] = self.min_size_spin.value()
        if self.split_spin.value() != self.split_spin.minimum():
            options["seed_height"] = self.split_spin.value()
        return options

    def _output_chosen(self, _output_type: str = "") -> None:
        """Object options apply to an instance model's labels only (a semantic model's
        class map has no objects to size or split)."""
        objects = self.output_combo.currentText() == "labels" and not model_classes(self.session.model)
        for spin in (self.min_size_spin, self.split_spin):
            spin.setEnabled(objects)
        set_tips(self, running=self.worker is not None)
        if self.worker is None:  # (set_tips gave Run its plain tooltip: a refusal stands)
            self._check_fit()

    def _check_fit(self) -> str | None:
        """Run greyed, saying why, when it would refuse the image, axes and model chosen
        (a 3D model on a 2D image; ``segment_fit``); the reason, or None when they fit."""
        image, model = self.session.host.current_image(), self.session.model
        unfit = unfit_reason(image, self.axes_edit.text(), model)
        show_run_refusal(self, unfit)
        return unfit

    def name_scope(self) -> None:
        """"Run on" names the one view of the image, axes and model chosen; greyed where
        one view is the whole image (it offered "Current slice" of a 2D image)."""
        if self._widgets_gone():
            return
        text = one_view_scope_text(self.session.host.current_image(), self.axes_edit.text(),
                                   self.session.model)
        self.scope_slice.setText(text or "Current slice")
        self.scope_slice.setEnabled(text is not None)
        # (the other choice names the whole as the one does its part: a 2D image offered
        # "Whole stack", and a time-lapse's whole is a series)
        whole = {None: "Whole image", "Current time point": "Whole series"}.get(text, "Whole stack")
        self.scope_stack.setText(whole)
        if text is None and self.scope_slice.isChecked():
            self.scope_stack.setChecked(True)

    def _say_ready(self) -> None:
        """The status line says what Run will do with the image and model chosen, until a
        run (or a refusal) has something else to say. The last run's Done line stands while
        they are the image and model it is about; another choice gets its own line (the
        Done line read as "this one is segmented already"), and back to theirs, it returns.
        Other lines tell of an event (a refusal, an error, a cancel): they stay, unless
        Run would refuse the choice: Run is greyed then, and the line says why."""
        self.name_scope()
        if self.worker is not None:
            return
        image, model = self.session.host.current_image(), self.session.model
        unfit = self._check_fit()
        if unfit is not None:
            self._ready_said = unfit_line(image, model, unfit)
            self.status.setText(self._ready_said)
            return
        shown, done = self.status.text(), self._done
        about_done = done is not None and done.is_about(image, model)
        if done is not None and shown == done.text():
            if about_done:
                return
        elif shown not in ("", self._ready_said):
            return
        elif about_done:
            self.status.setText(done.text())
            return
        self._ready_said = ready_text(image, model) + plane_note(image, self.axes_edit.text(), model)
        self.status.setText(self._ready_said)
