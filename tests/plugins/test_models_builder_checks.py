"""The network builder of the Models panel: it offers only what can segment images, checks a
new model's name as Rename does, tells form mistakes as such (no crash), previews 3D at no
cost, and says an untrained model is untrained wherever it is used."""

from __future__ import annotations

import logging
import time

import pytest

pytestmark = pytest.mark.qt


def _create(builder, qtbot, name: str, *, created: bool = True) -> None:
    builder.fields["base_channels"].setValue(4)
    builder.fields["depth"].setValue(2)
    builder.name_edit.setText(name)
    if created:
        with qtbot.waitSignal(builder.created, timeout=30_000):
            builder.create_button.click()
    else:
        builder.create_button.click()
    qtbot.waitUntil(lambda: builder.worker is None, timeout=30_000)


def test_create_checks_the_name_as_rename_does(models_panel, studio, studio_home, qtbot, told):
    builder = models_panel.builder
    _create(builder, qtbot, "qa 2D tiny")
    before = sorted(p.name for p in (studio_home / "models").iterdir())
    for name in ("a/b", "user:evil", "QA 2D TINY"):
        _create(builder, qtbot, name, created=False)
        level, message = told[-1]
        assert level == "error" and (repr(name) in message or "'qa 2D tiny'" in message), message
    assert sorted(p.name for p in (studio_home / "models").iterdir()) == before


def test_the_form_offers_what_can_be_built_and_tells_mistakes_without_a_crash(
        models_panel, qtbot, told, caplog):
    builder = models_panel.builder
    dims = builder.fields["spatial_dims"]
    assert (dims.minimum(), dims.maximum()) == (2, 3)  # (no 1D network: it segments no image)
    builder.arch_combo.setCurrentText("resnet18_unet")
    assert builder.fields["depth"].maximum() == 4
    padding = builder.fields["padding"]
    assert [padding.itemText(i) for i in range(padding.count())] == ["same"]
    assert not builder.fields["encoder"].isEnabled()  # (the name says the encoder)
    builder.arch_combo.setCurrentText("unet")
    builder.fields["norm"].setCurrentText("none")
    builder.fields["skip_norm"].setChecked(True)
    with caplog.at_level(logging.ERROR):
        builder.preview_button.click()
        qtbot.waitUntil(lambda: builder.worker is None, timeout=30_000)
    level, message = told[-1]
    assert level == "error" and "skip_norm" in message and "failed" not in message, message
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_3d_preview_is_sized_for_3d_and_says_its_memory(models_panel, qtbot):
    builder = models_panel.builder
    builder.fields["spatial_dims"].setValue(3)
    assert builder.input_size.value() == 64
    builder.input_size.setValue(256)  # (measured 15 GB and 1.5 min before: shapes only now)
    started = time.monotonic()
    builder.preview_button.click()
    qtbot.waitUntil(lambda: builder.summary is not None and builder.worker is None, timeout=30_000)
    assert time.monotonic() - started < 20
    assert builder.summary.output_shape == (1, 3, 256, 256, 256)
    assert "memory: about" in builder.summary_view.toPlainText()
    assert "GiB" in builder.summary.memory_line()


def test_an_untrained_model_is_said_untrained_where_it_is_used(models_panel, studio, qtbot,
                                                               told, segment_panel_of):
    from unet_studio.app.qt.model_card import card_markdown
    from unet_studio.app.qt.segment_done import DoneLine
    from unet_studio.app.qt.segment_tips import ready_text

    segment = segment_panel_of(studio)
    _create(models_panel.builder, qtbot, "fresh")
    model = studio.session.model
    assert model.name == "fresh" and told[-1][0] == "warning" and "untrained" in told[-1][1]
    assert "untrained" in ready_text(None, model) and "untrained" in segment.status.text()
    assert "untrained" in card_markdown(model)
    assert "untrained" in DoneLine("nuclei", model.path, model.name, ": 1 object").text()
    studio.session.set_model(studio.session.library.default())
    models_panel._select(model.path)  # (another model current: Remove says what it did)
    from unet_studio.app.qt.workers import engine_work_running

    # (Create's worker thread outlives its finished signal by a moment: Remove refuses
    # while any engine work runs, and said so in one CI run)
    qtbot.waitUntil(lambda: not engine_work_running(), timeout=10_000)
    models_panel.remove_selected()
    assert told[-1] == ("info", f"removed fresh ({model.ref})")


def test_an_import_refusal_says_the_problem_first(models_panel, tiny_model_dir, tmp_path, qtbot,
                                                  told):
    import shutil

    folder = tmp_path / "deep" / "down" / "nuclei"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "config.json").write_text("{not json", "utf-8")
    models_panel.import_folder(folder)
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=30_000)
    level, message = told[-1]
    assert level == "error" and message.startswith("Not imported: nuclei/config.json: is not valid JSON")


def test_in_channels_follows_the_image_open_until_the_user_types_another(
        studio, qtbot, tmp_path, nuclei_crop):
    """A two-channel hyperstack open: the builder offered a 1-channel network, which Run
    then refused on that image. It now offers as many as the image has; a number typed
    stays the user's."""
    import numpy as np
    import tifffile

    from unet_studio.app.qt.models_panel import ModelsPanel

    image = nuclei_crop[0][4:7, 10:58, 20:76]
    path = tmp_path / "zcyx.tif"
    tifffile.imwrite(path, np.stack([image, image // 3], axis=1), imagej=True, metadata={"axes": "ZCYX"})
    studio.viewer.open(str(path), plugin="unet-studio")
    studio.viewer.layers.selection.active = studio.viewer.layers["zcyx [C0]"]
    panel = ModelsPanel(studio.session)
    qtbot.addWidget(panel)
    panel.tabs.setCurrentWidget(panel.builder)
    panel.show()
    field = panel.builder.fields["in_channels"]
    assert field.value() == 2 and "zcyx [C0], has 2 channels" in field.toolTip()

    studio.viewer.add_image(np.zeros((32, 32, 3), np.uint8), name="colour", rgb=True)
    studio.session.select_image("colour")
    panel.builder.hide()
    panel.builder.show()  # (seen again: the image open now is RGB)
    assert field.value() == 3
    field.setValue(1)  # the user's own choice (the grey values)
    studio.session.select_image("zcyx [C1]")
    panel.builder.hide()
    panel.builder.show()
    assert field.value() == 1
    panel.builder.arch_combo.setCurrentText("resnet18_unet")  # a new form: offered again
    assert panel.builder.fields["in_channels"].value() == 2
