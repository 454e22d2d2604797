"""Segment's Folder… (and its list of models) check a model before it becomes current: a
broken one is refused at once with a warning naming the file and the problem, and the
model before stays; it is not chosen to fail at Run, nor mistaken there for an image
problem."""

from __future__ import annotations

import json
import pickle
import shutil

import pytest

pytestmark = pytest.mark.qt


def _config_for_5_channels(folder):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    config["architecture"]["in_channels"] = 5  # (its weights are for 1 channel)
    path.write_text(json.dumps(config))


class _Unpickled:
    """What a pickle renamed .safetensors could run when unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


BROKEN = [  # (damage, the file named, the problem said)
    (_config_for_5_channels, "model.safetensors",
     "weights do not match the architecture in config.json: 1 with the wrong shape "
     "(e.g. encoder.levels.0.convs.0.conv.weight: (4, 1, 3, 3) instead of (4, 5, 3, 3))"),
    (lambda f: (f / "model.safetensors").unlink(), "", "has no weights (model.safetensors missing)"),
    (lambda f: (f / "model.safetensors").write_bytes(pickle.dumps(_Unpickled(f / "PWNED"))),
     "model.safetensors", "is not a safetensors file"),
    (lambda f: (f / "config.json").unlink(), "", "is not a model folder (config.json missing)"),
]  # fmt: skip


def test_folder_refuses_a_broken_model_and_keeps_the_current_one(
        studio, segment_panel_of, told, tiny_model_dir, tmp_path, monkeypatch):
    from qtpy.QtWidgets import QFileDialog

    panel = segment_panel_of(studio)
    for number, (damage, file, problem) in enumerate(BROKEN):
        folder = shutil.copytree(tiny_model_dir, tmp_path / f"downloaded-{number}")
        damage(folder)
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, f=folder, **k: str(f))
        told.clear()
        panel.model_folder_button.click()
        ((level, message),) = told
        assert level == "warning" and problem in message
        assert message.startswith(f"Model not used: {folder / file}".rstrip("/") + ":")
        assert message.endswith("; the model stays tiny")
        assert studio.session.model.path == tiny_model_dir
        assert panel.model_combo.currentText().startswith("tiny  (")
        assert not (folder / "PWNED").exists()
    good = shutil.copytree(tiny_model_dir, tmp_path / "good")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(good))
    panel.model_folder_button.click()
    assert studio.session.model.path == good


def test_a_broken_model_in_the_list_is_refused_too(studio, segment_panel_of, told,
                                                   tiny_model_dir):
    """A listed model damaged since (its weights cut short): choosing it in the list is
    refused as Folder… refuses it, and the list shows the model that stays."""
    panel = segment_panel_of(studio)
    user_models = studio.session.library.folders["user"]
    broken = shutil.copytree(tiny_model_dir, user_models / "cut")
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    studio.session.models_listed.emit()
    index = next(i for i in range(panel.model_combo.count())
                 if panel.model_combo.itemData(i).path == broken)
    panel.model_combo.setCurrentIndex(index)
    panel.model_combo.activated.emit(index)
    ((level, message),) = told
    assert level == "warning" and message.startswith(f"Model not used: {weights}: is truncated")
    assert studio.session.model.path == tiny_model_dir
    assert panel.model_combo.currentText().startswith("tiny  (")


def test_use_in_the_models_panel_refuses_a_broken_model(studio, models_panel, told,
                                                        tiny_model_dir):
    """The Models panel's Use goes through the same check: a listed model whose config no
    longer fits its weights stays unused, and the current model stays."""
    user_models = studio.session.library.folders["user"]
    broken = shutil.copytree(tiny_model_dir, user_models / "five")
    _config_for_5_channels(broken)
    models_panel.refresh()
    row = next(i for i in range(models_panel.model_list.count())  # (named by its config)
               if models_panel.model_list.item(i).text().startswith("tiny  [user]"))
    models_panel.model_list.setCurrentRow(row)
    told.clear()
    models_panel.use_button.click()
    ((level, message),) = told
    assert level == "warning" and message.startswith(f"Model not used: {broken / 'model.safetensors'}")
    assert studio.session.model.path == tiny_model_dir
