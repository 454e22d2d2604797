"""Screenshots of the real unet-studio window for the README (run under Xvfb).

    QT_API=pyside6 xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python docs/screenshots/take_screenshots.py

Opens the app as a user would (first run: the 3D nuclei sample), segments the whole stack
with the bundled default model, corrects and reviews a little, fine-tunes briefly, previews
a new network, and saves one picture per panel next to this script.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def wait_for(condition, timeout: float = 600) -> None:
    from qtpy.QtWidgets import QApplication

    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the background work did not finish in time")
        QApplication.processEvents()
        time.sleep(0.01)


def settle(seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    wait_for(lambda: time.monotonic() > end)


def show_panel(viewer, name: str):
    """Bring a docked panel's tab to the front; returns the panel."""
    from qtpy.QtWidgets import QDockWidget

    panel = viewer.window.dock_widgets[f"{name} (unet-studio)"]
    dock = panel
    while dock is not None and not isinstance(dock, QDockWidget):
        dock = dock.parentWidget()
    dock.raise_()
    settle()
    return panel


def save(viewer, name: str) -> None:
    settle(0.8)
    viewer.screenshot(str(HERE / f"{name}.png"), canvas_only=False)
    print("wrote", HERE / f"{name}.png")


def main() -> int:
    os.environ["UNET_STUDIO_HOME"] = tempfile.mkdtemp(prefix="unet-studio-shots-")
    from unet_studio.app.launcher import open_studio
    from unet_studio.plugins.widgets import session_for

    viewer = open_studio(show=True)  # first run: the sample stack is loaded
    viewer.window._qt_window.resize(1500, 950)
    session = session_for(viewer)
    settle(1.0)
    viewer.reset_view()
    viewer.dims.set_point(0, 30 * viewer.layers[0].scale[0])

    segment = show_panel(viewer, "Segment")
    segment.run()
    wait_for(lambda: segment.worker is None)
    save(viewer, "segment")

    correct = show_panel(viewer, "Correct")
    labels = session.host.current_labels()
    z = 30
    ids = [i for i in sorted(set(labels[z].ravel().tolist())) if i][:2]
    if len(ids) == 2:
        from unet_studio.app.corrections import merge_labels_edit

        session.apply_edit(merge_labels_edit(labels, ids))
    correct.mark_slice_button.click()
    settle()
    save(viewer, "correct")

    train = show_panel(viewer, "Train")
    from unet_studio.models.training import FinetuneConfig

    train.start(config=FinetuneConfig(max_seconds=20, batch_size=4, patch_size=128, val_every=10))
    wait_for(lambda: train.worker is None)
    save(viewer, "train")

    models = show_panel(viewer, "Models")
    models.tabs.setCurrentIndex(1)
    models.builder.arch_combo.setCurrentText("resnet18_unet")
    models.builder.preview()
    wait_for(lambda: models.builder.worker is None)
    save(viewer, "models")
    session.close_project()
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
