"""Models panel: list with cards, import/export, default, and building a new network."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt


@pytest.fixture
def panel(studio, qtbot):
    from unet_studio.app.qt.models_panel import ModelsPanel

    widget = ModelsPanel(studio.session)
    qtbot.addWidget(widget)
    return widget


def _names(panel):
    return [panel.model_list.item(i).text() for i in range(panel.model_list.count())]


def test_import_use_default_export(panel, studio, tiny_model_dir, tmp_path):
    session = studio.session
    info = panel.import_folder(tiny_model_dir)
    assert info.source == "user" and any("tiny  [user]" in n for n in _names(panel))
    row = next(i for i, n in enumerate(_names(panel)) if "[user]" in n)
    panel.model_list.setCurrentRow(row)
    assert "unet" in panel.card.toPlainText() and "parent: none" in panel.card.toPlainText()
    panel.use_button.click()
    assert session.model.path == info.path
    assert "(current)" in panel.model_list.currentItem().text()
    panel.default_button.click()
    assert session.library.default().path == info.path
    target = panel.export_selected(tmp_path / "exported")
    assert (target / "config.json").exists() and (target / "model.safetensors").exists()
    with pytest.raises(Exception, match="already exists"):
        panel.export_selected(tmp_path / "exported")


def test_builder_previews_shapes_and_creates_a_model(panel, studio, qtbot):
    builder = panel.builder
    builder.arch_combo.setCurrentText("residual_unet")
    assert "residual" in builder.fields and builder.fields["residual"].isChecked()
    builder.fields["base_channels"].setValue(4)
    builder.fields["depth"].setValue(2)
    builder.input_size.setValue(64)
    builder.preview_button.click()
    qtbot.waitUntil(lambda: builder.summary is not None and builder.worker is None, timeout=30_000)
    text = builder.summary_view.toPlainText()
    assert "(1, 4, 64, 64)" in text and "(1, 16, 16, 16)" in text  # level 0 and the bridge
    assert "parameters" in text and "MFLOP per output pixel" in text and "receptive field" in text
    assert builder.summary.parameters > 0 and builder.summary.receptive_field[0] > 1

    builder.name_edit.setText("my-net")
    tasks = studio.viewer.window._task_status_manager
    with qtbot.waitSignal(builder.created, timeout=30_000) as blocker:
        builder.create_button.click()
        # Writing a model folder: closing the window now would ask first.
        assert [s for s in tasks.get_status() if s.startswith("unet-studio: creating the model 'my-net'")]
    folder = blocker.args[0]
    qtbot.waitUntil(lambda: not tasks.is_busy(), timeout=10_000)
    assert (folder / "config.json").exists()
    assert studio.session.model.path == folder and studio.session.model.name == "my-net"
    assert any("my-net" in n for n in _names(panel))


def test_invalid_options_say_what_is_allowed(panel, studio, qtbot):
    builder = panel.builder
    builder.arch_combo.setCurrentText("resnet18_unet")
    builder.fields["padding"].setCurrentText("valid")
    builder.preview_button.click()
    qtbot.waitUntil(lambda: builder.worker is None, timeout=30_000)
    assert "padding='same'" in builder.summary_view.toPlainText()


def test_a_removed_model_leaves_every_list_of_models(panel, studio, tiny_model_dir, qtbot):
    """Imported, it is offered by the Segment panel at once; removed, no panel offers it
    (choosing it would fail at Run)."""
    from unet_studio.app.qt.segment_panel import SegmentPanel

    segment = SegmentPanel(studio.session)
    qtbot.addWidget(segment)

    def offered() -> list[str]:
        return [segment.model_combo.itemText(i) for i in range(segment.model_combo.count())]

    info = panel.import_folder(tiny_model_dir)
    assert any(text.startswith(f"{info.name}  (user)") for text in offered())
    panel.model_list.setCurrentRow(next(i for i, n in enumerate(_names(panel)) if "[user]" in n))
    panel.remove_button.click()
    assert not any("[user]" in n for n in _names(panel))
    assert not any("(user)" in text for text in offered())
