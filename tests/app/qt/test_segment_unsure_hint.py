"""The Segment panel's Done line says when the model was unsure of much of what it called
objects: the default nuclei model on an image unlike its training data (a HeLa crop with
its intensities inverted: dark nuclei on a bright ground, as in phase contrast), not on
the HeLa crop itself. On the FakeHost, with the bundled default model."""

from __future__ import annotations

import pytest
import tifffile

pytestmark = pytest.mark.qt


def _segment(image, name: str, home, qtbot) -> str:
    """The Done line of a labels run of the default model on ``image`` (Y, X)."""
    from unet_studio.app.host import FakeHost
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.segment_panel import SegmentPanel
    from unet_studio.app.qt.session import StudioSession

    host = FakeHost()  # (one image at a time: a session per image)
    host.add_image(image, "YX", name=name)
    session = StudioSession(host, library=ModelLibrary(home=home))
    panel = SegmentPanel(session)
    qtbot.addWidget(panel)
    panel.output_combo.setCurrentText("labels")
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    done = panel.status.text()  # (read first: closing the project tells the panels)
    session.close_project()
    assert host.current_labels().max() > 0  # (objects found either way)
    return done


def test_the_done_line_says_the_model_was_unsure_only_where_it_was(
        tmp_path, monkeypatch, qtbot, test_data_dir):
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    hela = tifffile.imread(test_data_dir / "default_hela_f3_img.tif")
    sure = _segment(hela, "hela", tmp_path / "home", qtbot)
    # (3.6 % of its object pixels unsure, measured: nothing said)
    assert sure.startswith("Done: hela segmented with ") and sure.endswith(" objects.")
    unsure = _segment(hela.max() - hela, "inverted", tmp_path / "home", qtbot)
    assert unsure.startswith("Done: inverted segmented with ")
    assert " objects. The model was unsure of " in unsure
    share = int(unsure.split(" The model was unsure of ")[1].split(" %")[0])
    assert 8 < share < 40  # (measured: 15 %)
    assert unsure.endswith(" % of what it called objects: it may not know images like these; "
                           "correct a few objects and Train.")
