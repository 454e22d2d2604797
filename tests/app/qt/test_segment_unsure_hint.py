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


def test_a_model_the_user_fine_tuned_is_told_to_check_its_unsure_objects(tmp_path):
    """A model fine-tuned on the user's images (its metadata names a parent), unsure of 11 %:
    not "it may not know images like these; correct a few objects and Train", the advice for
    a model new to the images (a phase-contrast QA heard it after two good rounds), but where
    to look first. The bundled-like model without a parent keeps the first advice."""
    import torch

    from unet_studio.app.qt.segment_done import DoneLine
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, out_channels=3, base_channels=4, depth=2)
    tuned = save_model(net, tmp_path / "rods-ft", metadata={"parent": {"name": "default"}})
    plain = save_model(net, tmp_path / "default", metadata={"name": "default"})
    unsure = "the model was unsure of 11 % of what it called objects"
    assert DoneLine("rods", tuned, "rods-ft", ": 39 objects", unsure=unsure).text() == (
        "Done: rods segmented with rods-ft: 39 objects. The model was unsure of 11 % of what "
        "it called objects: check those first (Correct: Find objects to check), then Train again.")
    assert DoneLine("rods", plain, "default", ": 49 objects", unsure=unsure).text().endswith(
        ": it may not know images like these; correct a few objects and Train.")
