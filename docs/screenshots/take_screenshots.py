"""Screenshots of the real unet-studio window for the README (run under Xvfb).

    QT_API=pyside6 xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python docs/screenshots/take_screenshots.py

Opens the app as a user would (first run: the 3D nuclei sample), segments the whole stack
with the bundled default model, corrects a slice (splits the object that looks most like two
touching nuclei) and marks it reviewed, fine-tunes briefly, previews
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


def least_convex_object(plane, min_area: int = 200):
    """The object of a 2D label plane least like a convex blob (lowest solidity: two
    touching nuclei given one label) and two seeds in it (its two deepest points), or None."""
    import numpy as np
    from scipy import ndimage as ndi
    from skimage.feature import peak_local_max
    from skimage.measure import regionprops

    objects = [r for r in regionprops(plane) if r.area >= min_area]
    if not objects:
        return None
    worst = min(objects, key=lambda r: r.solidity)
    inside = np.pad(worst.image, 1)
    peaks = peak_local_max(ndi.distance_transform_edt(inside), min_distance=5, num_peaks=2,
                           exclude_border=False)  # fmt: skip
    if len(peaks) < 2:
        return None
    top, left = worst.bbox[0] - 1, worst.bbox[1] - 1
    return worst.label, [(int(y) + top, int(x) + left) for y, x in peaks]


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
    pair = least_convex_object(labels[z])
    if pair is not None:  # what a user would fix first: two touching nuclei given one label
        from unet_studio.app.corrections import split_object_edit

        label_id, seeds = pair
        session.apply_edit(split_object_edit(labels, label_id, [(z, y, x) for y, x in seeds]))
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
