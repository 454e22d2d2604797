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
                        lambda message, level="info": told.append((level, message)))
    models_panel.import_folder(tiny_model_dir)
    qtbot.waitUntil(lambda: models_panel.worker is None, timeout=30_000)
    assert [message for _, message in told] == [
        f"tiny is already in your models as {first.ref} (the same network and weights): "
        "not imported again"]
    assert [m.ref for m in studio.session.library.list() if m.source == "user"] == [first.ref]
