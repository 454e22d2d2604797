"""The session's watch of the model library: a model made by the command line reaches the
Segment panel without any Models panel open; the current model replaced or removed on disk
by another program is followed (and said once); a broken model folder is told once."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from unet_studio.app.host import FakeHost

pytestmark = pytest.mark.qt


def _tiny_net(seed: int):
    import torch

    from unet_studio.models.registry import build_model

    torch.manual_seed(seed)
    return build_model("unet", spatial_dims=2, base_channels=4, depth=2)


def _warnings(host, text: str) -> list[str]:
    return [message for level, message in host.notifications
            if level == "warning" and text in message]


@pytest.fixture
def window(session_on, tmp_path):
    """A session (no panel) of a user whose library holds "user:labA", current."""
    from unet_studio.models.weights import save_model

    home = tmp_path / "home"
    save_model(_tiny_net(0), home / "models" / "labA", metadata={"name": "labA"})
    host = FakeHost()
    host.add_image(np.zeros((30, 30), np.float32), "YX", name="img")
    session = session_on(host, home)
    session.set_model("user:labA")
    return session


def test_a_model_made_by_the_cli_reaches_the_segment_panel_alone(window, qtbot):
    from unet_studio.app.qt.segment_panel import SegmentPanel
    from unet_studio.models.weights import save_model

    panel = SegmentPanel(window)  # (napari's Plugins menu: Segment only, no Models panel)
    qtbot.addWidget(panel)
    save_model(_tiny_net(1), window.library.home / "models" / "from-cli",
               metadata={"name": "from cli"})
    qtbot.waitUntil(lambda: any("from cli" in panel.model_combo.itemText(i)
                                for i in range(panel.model_combo.count())), timeout=5_000)


def test_the_current_model_replaced_on_disk_is_read_again_and_said_once(window, qtbot, tmp_path):
    """``finetune -o ~/models/labA --overwrite`` saves new weights into the folder in use."""
    from unet_studio.app.model_identity import identity_of
    from unet_studio.app.qt.shared_watch import SETTLE_MS
    from unet_studio.models.weights import save_model

    window.open_project(tmp_path / "project", create=True)
    before = identity_of(window.model)
    save_model(_tiny_net(2), window.model.path, metadata={"name": "labA"})
    qtbot.waitUntil(lambda: identity_of(window.model) != before, timeout=5_000)
    qtbot.wait(3 * SETTLE_MS)  # (no second notice for the same replacement)
    assert len(_warnings(window.host, "labA was replaced on disk by another program")) == 1
    assert window.model.ref == "user:labA"
    # (the project records the weights its labels are made with from now on)
    assert window.project.current_model_identity == identity_of(window.model)


def test_the_current_model_removed_on_disk_gives_way_to_the_default(window, qtbot):
    folder = window.model.path
    shutil.rmtree(folder)
    qtbot.waitUntil(lambda: window.model.path != folder, timeout=5_000)
    assert window.model.path == window.library.default().path
    assert _warnings(window.host, "labA was removed from disk by another program")


def test_a_broken_model_folder_is_told_once(window, qtbot):
    from unet_studio.app.qt.models_panel import ModelsPanel

    broken = window.library.home / "models" / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    panel = ModelsPanel(window)
    qtbot.addWidget(panel)
    for _ in range(3):  # (each model the command line makes refills every list)
        window.models_listed.emit()
    assert len(_warnings(window.host, "broken")) == 1
    shutil.rmtree(broken)  # (mended, then broken again: said again)
    window.models_listed.emit()
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    window.models_listed.emit()
    assert len(_warnings(window.host, "broken")) == 2


SESSION_BEFORE_APPLICATION = """
import sys, time
from pathlib import Path
import numpy as np
from unet_studio.app.host import FakeHost
from unet_studio.app.model_library import ModelLibrary
from unet_studio.app.qt.session import StudioSession
from unet_studio.models.registry import build_model
from unet_studio.models.weights import save_model

home = Path(sys.argv[1])
(home / "models").mkdir(parents=True)
host = FakeHost()
host.add_image(np.zeros((30, 30), np.float32), "YX", name="img")
session = StudioSession(host, library=ModelLibrary(home=home))  # (no application yet)
from qtpy.QtWidgets import QApplication
application = QApplication([])
listed = []
session.models_listed.connect(lambda: listed.append(1))
session.library_watch.follow()  # (as a project opened or a model chosen would)
save_model(build_model("unet", spatial_dims=2, base_channels=4, depth=2), home / "models" / "cli")
deadline = time.monotonic() + 20
while not listed and time.monotonic() < deadline:
    application.processEvents()
    time.sleep(0.02)
print("listed" if listed else "never listed")
"""


def test_a_session_made_before_the_application_still_hears_of_new_models(tmp_path):
    """A watcher made before the QApplication never heard of any change, for the rest of
    the process (a test's session made first broke every later session's watch)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_API": os.environ.get("QT_API", "pyside6")}
    done = subprocess.run([sys.executable, "-c", SESSION_BEFORE_APPLICATION, str(tmp_path / "home")],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.stdout.strip().splitlines()[-1:] == ["listed"], done.stderr[-2000:]
