"""Models panel: list with cards, import/export, default, and building a new network."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.qt


def _names(models_panel):
    return [models_panel.model_list.item(i).text() for i in range(models_panel.model_list.count())]


def _import(models_panel, qtbot, folder):
    """Import ``folder`` through the panel (in its worker thread); the ModelInfo."""
    with qtbot.waitSignal(models_panel.imported, timeout=30_000) as blocker:
        models_panel.import_folder(folder)
        assert not models_panel.import_button.isEnabled()  # one import at a time
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=10_000)
    return blocker.args[0]


def _told(studio, monkeypatch) -> list[tuple[str, str]]:
    """The (level, message) of every notification from now on."""
    told = []
    monkeypatch.setattr(studio.host, "notify", lambda message, level="info", **_: told.append((level, message)))
    return told


def _export(models_panel, qtbot, destination):
    """Export the selected model through the panel (in its worker thread); the new folder."""
    with qtbot.waitSignal(models_panel.exported, timeout=30_000) as blocker:
        models_panel.export_selected(destination)
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=10_000)
    return blocker.args[0]


def test_import_use_default_export(models_panel, studio, tiny_model_dir, tmp_path, qtbot, monkeypatch):
    session = studio.session
    info = _import(models_panel, qtbot, tiny_model_dir)
    assert info.source == "user" and any("tiny  [user]" in n for n in _names(models_panel))
    row = next(i for i, n in enumerate(_names(models_panel)) if "[user]" in n)
    models_panel.model_list.setCurrentRow(row)
    assert "unet" in models_panel.card.toPlainText() and "parent: none" in models_panel.card.toPlainText()
    models_panel.use_button.click()
    assert session.model.path == info.path
    assert "(current)" in models_panel.model_list.currentItem().text()
    models_panel.default_button.click()
    assert session.library.default().path == info.path
    target = _export(models_panel, qtbot, tmp_path / "exported")
    assert (target / "config.json").exists() and (target / "model.safetensors").exists()
    told = _told(studio, monkeypatch)
    models_panel.export_selected(tmp_path / "exported")
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=30_000)
    assert told == [("error", f"{tmp_path / 'exported'} already exists; choose another place "
                              "to export to")]


def test_builder_previews_shapes_and_creates_a_model(models_panel, studio, qtbot):
    builder = models_panel.builder
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
    assert any("my-net" in n for n in _names(models_panel))


def _preview(builder, qtbot, architecture: str, depth: int):
    builder.arch_combo.setCurrentText(architecture)
    builder.fields["base_channels"].setValue(4)
    builder.fields["depth"].setValue(depth)
    builder.input_size.setValue(64)
    builder.summary = None
    builder.preview_button.click()
    qtbot.waitUntil(lambda: builder.summary is not None and builder.worker is None, timeout=30_000)
    return builder.summary


@pytest.mark.slow
def test_the_preview_says_which_resnet_stages_a_depth_uses(models_panel, qtbot):
    """At depth 2 ResNet-101 and ResNet-50 are one network (they differ from stage 3 on):
    the preview says so, and which stages are used; at depth 3 they differ, and it does not."""
    builder = models_panel.builder
    resnet50 = _preview(builder, qtbot, "resnet50_unet", depth=2)
    resnet101 = _preview(builder, qtbot, "resnet101_unet", depth=2)
    assert resnet101.parameters == resnet50.parameters  # what the preview must not hide
    assert ("encoder resnet101: stages 1-2 of 4 used (3, 4 bottleneck blocks); stages 3-4 "
            "(23, 3 blocks) left out: the same network as resnet50 at depth 2"
            in builder.summary_view.toPlainText())
    deeper = _preview(builder, qtbot, "resnet101_unet", depth=3)
    assert deeper.parameters > _preview(builder, qtbot, "resnet50_unet", depth=3).parameters
    _preview(builder, qtbot, "resnet101_unet", depth=3)
    text = builder.summary_view.toPlainText()
    assert "stages 1-3 of 4 used (3, 4, 23 bottleneck blocks); stage 4 (3 blocks) left out" in text
    assert "the same network" not in text


def test_invalid_options_say_what_is_allowed(models_panel, studio, qtbot):
    builder = models_panel.builder
    builder.fields["norm"].setCurrentText("none")  # (resnet + "valid" is no longer offered)
    builder.fields["skip_norm"].setChecked(True)
    builder.preview_button.click()
    qtbot.waitUntil(lambda: builder.worker is None, timeout=30_000)
    assert "norm other than 'none'" in builder.summary_view.toPlainText()


def test_a_removed_model_leaves_every_list_of_models(models_panel, studio, tiny_model_dir, qtbot,
                                                     click_and_answer):
    """Imported, it is offered by the Segment panel at once; removed, no panel offers it
    (choosing it would fail at Run)."""
    from unet_studio.app.qt.segment_panel import SegmentPanel

    segment = SegmentPanel(studio.session)
    qtbot.addWidget(segment)

    def offered() -> list[str]:
        return [segment.model_combo.itemText(i) for i in range(segment.model_combo.count())]

    info = _import(models_panel, qtbot, tiny_model_dir)
    assert any(text.startswith(f"{info.name}  (user)") for text in offered())
    models_panel.model_list.setCurrentRow(next(i for i, n in enumerate(_names(models_panel)) if "[user]" in n))
    question = click_and_answer(models_panel.remove_button, "No")  # asked first: "No" keeps it
    assert info.name in question and str(info.path) in question and info.path.exists()
    assert any("[user]" in n for n in _names(models_panel))
    click_and_answer(models_panel.remove_button, "Yes")
    assert not info.path.exists() and not any("[user]" in n for n in _names(models_panel))
    assert not any("(user)" in text for text in offered())



def _edit_config(folder, **changes):
    import json

    path = folder / "config.json"
    config = json.loads(path.read_text())
    for key, value in changes.items():
        section, _, field = key.partition("__")
        config[section][field] = value
    path.write_text(json.dumps(config))


def _weights_of_another_network(folder):
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    other = save_model(build_model("resnet18_unet", spatial_dims=2, base_channels=8, depth=2),
                       folder.parent / "other-network")
    (folder / "model.safetensors").write_bytes((other / "model.safetensors").read_bytes())


def _pickled_weights_only(folder):
    (folder / "model.safetensors").rename(folder / "model.pt")


@pytest.mark.parametrize("damage, file, problem", [
    (_weights_of_another_network, "model.safetensors", "weights do not match the architecture"),
    (lambda f: _edit_config(f, architecture__base_channels="four"), "config.json",
     "base_channels must be an integer, got 'four'"),
    (lambda f: _edit_config(f, task__spatial_axes=2), "config.json", "has a task that cannot be used"),
    (lambda f: _edit_config(f, metadata__metrics=[0.9]), "config.json", "'metrics' that are not an object"),
    (_pickled_weights_only, "", "model.pt is a pickled PyTorch file"),
])  # fmt: skip
@pytest.mark.slow
def test_a_folder_that_cannot_segment_is_refused_at_import_naming_the_file(
        models_panel, studio, tiny_model_dir, tmp_path, qtbot, monkeypatch, damage, file, problem):
    """Refused at import with the file and the problem, not imported to fail at a Run."""
    import shutil

    folder = tmp_path / "downloaded"
    shutil.copytree(tiny_model_dir, folder)
    damage(folder)
    told = []
    monkeypatch.setattr(studio.host, "notify", lambda message, level="info", **_: told.append((level, message)))
    before = _names(models_panel)
    models_panel.import_folder(folder)
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=30_000)
    ((level, message),) = told
    # (the problem where the notification shows it: the file named from the folder imported)
    assert level == "error" and message.startswith(f"Not imported: {folder.name}/{file}".rstrip("/") + ":")
    assert problem in message
    assert _names(models_panel) == before and not (studio.session.library.folders["user"] / "downloaded").exists()


def test_a_card_shows_scores_per_data_set_as_a_list_not_raw_dictionaries(models_panel):
    """The bundled model's metrics are scores per data set, of the model and a baseline."""
    row = next(i for i, n in enumerate(_names(models_panel)) if "[bundled]" in n)
    models_panel.model_list.setCurrentRow(row)
    card = models_panel.card.toPlainText()
    facts = card.split("metrics:")[1].split("parent:")[0]  # (the card.md below may hold code)
    assert "{" not in facts and "0.9346" not in facts
    assert "hela (HeLa H2B-GFP frames (3, 4)):" in card
    assert "this model: F1 at IoU 0.5: 0.935; AP at IoU 0.5: 0.877" in card  # (not "f1_50 0.935")
    assert "objects in the held-out data: 372" in card and "n_true" not in facts


def test_a_model_imported_twice_is_told_apart_in_every_list(models_panel, studio, tiny_model_dir, qtbot):
    from unet_studio.app.qt.segment_panel import SegmentPanel

    segment = SegmentPanel(studio.session)
    qtbot.addWidget(segment)
    first = _import(models_panel, qtbot, tiny_model_dir)
    # (a copy made by hand, or by an import of an earlier version: Import now names it apart)
    shutil.copytree(first.path, first.path.parent / "tiny-2")
    studio.session.models_listed.emit()
    second = studio.session.library.get("user:tiny-2")
    assert (first.name, second.name, first.ref, second.ref) == ("tiny", "tiny", "user:tiny", "user:tiny-2")
    assert [n for n in _names(models_panel) if "[user" in n] == ["tiny  [user:tiny]", "tiny  [user:tiny-2]"]
    offered = [segment.model_combo.itemText(i) for i in range(segment.model_combo.count())]
    assert [t for t in offered if "(user" in t] == ["tiny  (user:tiny)", "tiny  (user:tiny-2)"]


def test_a_model_named_with_a_leading_dot_is_created_where_the_list_shows_it(models_panel, studio, qtbot):
    builder = models_panel.builder
    builder.fields["base_channels"].setValue(4)
    builder.fields["depth"].setValue(2)
    builder.name_edit.setText(".nuclei v2")
    with qtbot.waitSignal(builder.created, timeout=30_000) as blocker:
        builder.create_button.click()
    assert blocker.args[0].name == "nuclei-v2"
    assert any(".nuclei v2  [user]" in n for n in _names(models_panel))  # (after its marks)
