"""The network builder makes a network of classes (semantic) as well as one of objects: the
class names typed set its outputs, its preview and its saved task; names that cannot be
classes are told, and nothing is made."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.qt

ORGANELLES = "background, mitochondria, membrane, vesicle"


def _tiny(builder) -> None:
    builder.fields["base_channels"].setValue(4)
    builder.fields["depth"].setValue(2)


def test_a_network_of_classes_outputs_one_channel_per_class_named(models_panel, studio, qtbot):
    from unet_studio.app.qt.model_card import card_markdown

    builder = models_panel.builder
    _tiny(builder)
    assert not builder.task_fields.classes_edit.isEnabled()  # (objects: no classes to name)
    builder.task_fields.combo.setCurrentText("Classes (semantic)")
    assert builder.task_fields.classes_edit.isEnabled()
    assert "mitochondria" in builder.task_fields.classes_edit.toolTip()
    builder.task_fields.classes_edit.setText(ORGANELLES)
    builder.input_size.setValue(64)
    builder.preview_button.click()
    qtbot.waitUntil(lambda: builder.summary is not None and builder.worker is None, timeout=30_000)
    assert builder.summary.output_shape == (1, 4, 64, 64)
    assert f"outputs: classes: {ORGANELLES}" in builder.summary_view.toPlainText()
    builder.name_edit.setText("organelles")
    with qtbot.waitSignal(builder.created, timeout=30_000) as created:
        builder.create_button.click()
    qtbot.waitUntil(lambda: builder.worker is None, timeout=30_000)
    config = json.loads((created.args[0] / "config.json").read_text())
    assert config["task"]["kind"] == "semantic" and config["architecture"]["out_channels"] == 4
    assert config["task"]["class_names"] == ORGANELLES.split(", ")
    assert f"- outputs: classes: {ORGANELLES}" in card_markdown(studio.session.model)


def test_class_names_that_cannot_be_classes_are_told_and_nothing_is_made(
        models_panel, studio_home, qtbot, told):
    builder = models_panel.builder
    _tiny(builder)
    builder.task_fields.combo.setCurrentText("Classes (semantic)")
    for names, said in (("mitochondria", "fewer than 2 names"),
                        ("background, membrane, Membrane", "'Membrane' is named twice")):
        builder.task_fields.classes_edit.setText(names)
        builder.create_button.click()
        level, message = told[-1]
        assert level == "error" and message.startswith("Classes: ") and said in message, message
        assert said in builder.summary_view.toPlainText() and builder.worker is None
    assert not (studio_home / "models").exists() or not any((studio_home / "models").iterdir())
