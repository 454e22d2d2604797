"""Models panel: the same model folder imported twice is said to be there already, and no
second copy is listed (a shared model imported again by a microscopist)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt


def test_importing_the_same_model_again_says_so_and_copies_nothing(
        models_panel, studio, tiny_model_dir, qtbot, monkeypatch):
    with qtbot.waitSignal(models_panel.imported, timeout=30_000) as blocker:
        models_panel.import_folder(tiny_model_dir)
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=10_000)
    first = blocker.args[0]
    told = []
    monkeypatch.setattr(studio.host, "notify",
                        lambda message, level="info", **_: told.append((level, message)))
    models_panel.import_folder(tiny_model_dir)
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=30_000)
    assert told == [("info",  # (nothing went wrong: said as information, the model selected)
                     f"tiny is already in your models as {first.ref} (the same network and "
                     "weights): not imported again")]
    assert [m.ref for m in studio.session.library.list() if m.source == "user"] == [first.ref]
    assert models_panel.model_list.currentItem().data(256).path == first.path


def test_an_import_whose_name_is_taken_says_the_name_it_got(
        models_panel, studio, tiny_model_dir, tmp_path, qtbot, monkeypatch):
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    with qtbot.waitSignal(models_panel.imported, timeout=30_000):
        models_panel.import_folder(tiny_model_dir)
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=10_000)
    other = save_model(build_model("unet", spatial_dims=2, base_channels=4, depth=2),
                       tmp_path / "theirs" / "tiny", metadata={"name": "tiny"})  # (other weights)
    told = []
    monkeypatch.setattr(studio.host, "notify",
                        lambda message, level="info", **_: told.append((level, message)))
    with qtbot.waitSignal(models_panel.imported, timeout=30_000) as blocker:
        models_panel.import_folder(other)
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=10_000)
    assert blocker.args[0].name == "tiny-2"
    assert told == [("info", "a model named tiny is already in your models: imported this "
                             f"one as tiny-2 ({blocker.args[0].ref})")]
