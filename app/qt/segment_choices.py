"""The Segment panel's choice lists: images, models and devices (a mixin of SegmentPanel).

Expects the panel's widgets (``image_combo``, ``axes_edit``, ``channel_spin``,
``model_combo``, ``device_combo``) and its ``session``.
"""

from __future__ import annotations

from qtpy.QtWidgets import QFileDialog

from unet_studio.app.errors import UserError


class SegmentChoices:
    """Fills and follows the Segment panel's image, model and device lists."""

    def refresh_choices(self) -> None:
        self._fill_images()
        self._fill_models()
        self._fill_devices()

    def _fill_images(self) -> None:
        host = self.session.host
        names = host.image_names() if hasattr(host, "image_names") else []
        image = host.current_image()
        if not names and image is not None:
            names = [image.name]
        current = self.image_combo.currentText()
        self.image_combo.blockSignals(True)
        self.image_combo.clear()
        self.image_combo.addItems(names)
        chosen = current if current in names else (image.name if image is not None else "")
        self.image_combo.setCurrentText(chosen)
        self.image_combo.blockSignals(False)
        self._image_chosen()

    def _image_chosen(self, *_args) -> None:
        if hasattr(self.session.host, "select_image") and self.image_combo.currentText():
            self.session.host.select_image(self.image_combo.currentText())
        image = self.session.host.current_image()
        self.axes_edit.setText(image.axes if image is not None else "")
        self.channel_spin.setEnabled(image is not None and "C" in image.axes)

    def _fill_models(self) -> None:
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        models = self.session.library.list()
        current = self.session.model
        if current is not None and all(m.path != current.path for m in models):
            models.append(current)  # a folder chosen by path
        for info in models:
            self.model_combo.addItem(f"{info.name}  ({info.source})", info)
            if current is not None and info.path == current.path:
                self.model_combo.setCurrentIndex(self.model_combo.count() - 1)
        self.model_combo.blockSignals(False)

    def _fill_devices(self) -> None:
        from unet_studio.models.devices import available_devices

        self.device_combo.clear()
        self.device_combo.addItems(["auto", *available_devices()])

    def _model_chosen(self, index: int) -> None:
        info = self.model_combo.itemData(index)
        if info is not None:
            self.session.set_model(info)

    def _choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder (config.json + model.safetensors)")
        if folder:
            try:
                self.session.set_model(folder)
            except UserError as error:
                self.session.host.notify(str(error), "error")

