"""The Segment panel on colour images and files without axis names, in a real viewer:
"luminance" in the Channel box (the default for a 1-channel model on RGB), fed exactly as
the CLI's ``--channel luminance`` and learnt from by fine-tuning; a note when the axes were
guessed; and the intensity range of stacked channel layers kept between runs."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import open_stack

pytestmark = pytest.mark.qt

WEIGHTS = np.array([0.299, 0.587, 0.114])


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict:
    """Tiny 2D U-Nets (random weights) taking 1 and 2 channels: {in_channels: folder}."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    folders = {}
    for channels in (1, 2):
        torch.manual_seed(channels)
        net = build_model("unet", spatial_dims=2, in_channels=channels, base_channels=4, depth=2)
        folder = tmp_path_factory.mktemp("colour_models") / f"c{channels}"
        folders[channels] = save_model(net, folder, metadata={"name": f"c{channels}"})
    return folders


def _colour(nuclei_crop, alpha=False) -> np.ndarray:
    """(Y, X, 3 or 4) uint8: three planes of real nuclei as R, G and B, each its own."""
    planes = [p[8:72, 4:84] for p in nuclei_crop[0][3:6]]
    planes = [(p / p.max() * 255).astype(np.uint8) for p in planes]
    if alpha:
        planes.append(np.full_like(planes[0], 200))
    return np.stack(planes, axis=-1)


def _probabilities(viewer, image_name) -> np.ndarray:
    layers = [layer for layer in viewer.layers if layer.name.startswith(f"{image_name} probabilities")]
    return np.stack([np.asarray(layer.data) for layer in layers])


def _cli(source, model, target, *extra) -> np.ndarray:
    assert main(["predict", str(source), "-o", str(target), "--model", str(model),
                 "--device", "cpu", "--output-type", "probabilities", *extra]) == 0
    with open_stack(target) as result:
        return np.moveaxis(result.to_numpy(), result.axes.index("C"), 0)


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [False, True], ids=["rgb", "rgba"])
def test_luminance_is_the_default_for_a_one_channel_model_and_the_cli_s(
        studio, qtbot, tmp_path, models, nuclei_crop, alpha, run_segment, segment_panel_of):
    """An RGB(A) file and a 1-channel model: the Channel box offers "luminance" below the
    colours and starts on it; the probabilities are the CLI's ``--channel luminance``, to
    the bit. Red (channel 0), picked by hand, is the CLI's ``--channel 0`` (the panel fed
    red alone: luminance was not offered)."""
    path = tmp_path / "he.tif"
    extra = {"extrasamples": ["unassalpha"]} if alpha else {}
    tifffile.imwrite(path, _colour(nuclei_crop, alpha), photometric="rgb", **extra)
    viewer = studio.viewer
    studio.session.set_model(str(models[1]))
    [layer] = viewer.open(str(path), plugin="unet-studio")
    panel = segment_panel_of(studio)
    assert layer.rgb and panel.channel_spin.isEnabled()
    assert panel.channel_spin.text() == "luminance"
    result = run_segment(panel, "probabilities")
    assert result.job.request.channel == "luminance" and result.job.axes == "YX"
    assert not isinstance(result.job.data, np.ndarray)  # (read tile by tile, not whole)
    expected = _cli(path, models[1], tmp_path / "lum.tif", "--channel", "luminance")
    np.testing.assert_array_equal(_probabilities(viewer, "he"), expected)

    panel.channel_spin.setValue(0)
    assert panel.channel_spin.text() == "0"
    run_segment(panel, "probabilities")
    red = _cli(path, models[1], tmp_path / "red.tif", "--channel", "0")
    np.testing.assert_array_equal(_probabilities(viewer, "he"), red)
    assert not np.array_equal(red, expected)
    panel.refresh_choices()  # (the user's pick stays through a refresh)
    assert panel.channel_spin.text() == "0"


def test_a_fluorescence_stack_of_three_channels_gets_no_luminance(studio, qtbot, models,
                                                                  nuclei_crop, segment_panel_of):
    """Three stains before Y and X (CYX) are no colours: channel 0 as before."""
    three = np.ascontiguousarray(nuclei_crop[0][3:6, :40, :40])
    studio.viewer.add_image(three, name="cyx", metadata={"axes": "CYX"})
    studio.session.set_model(str(models[1]))
    panel = segment_panel_of(studio)
    assert panel.channel_spin.isEnabled() and panel.channel_spin.text() == "0"
    assert panel.channel_spin.minimum() == 0


def test_a_round_learns_from_the_luminance_an_rgb_image_was_segmented_on(
        studio, qtbot, tmp_path, models, nuclei_crop, run_segment, segment_panel_of):
    """Segmented on luminance, the image is recorded so in the project (C=luminance), and a
    fine-tuning round on it reads the very grey values prediction fed the model (it read
    channel 0, red: the recorded channel was an index or nothing)."""
    from unet_studio.app.qt.train_logic import collect_examples

    rgb = _colour(nuclei_crop)
    path = tmp_path / "he.tif"
    tifffile.imwrite(path, rgb, photometric="rgb")
    studio.session.set_model(str(models[1]))
    studio.viewer.open(str(path), plugin="unet-studio")
    panel = segment_panel_of(studio)
    result = run_segment(panel)
    session = studio.session
    image_id = session.current_image_id()
    assert session.project.image(image_id).selection["C"] == "luminance"
    assert session.image_channel(image_id) == "luminance"
    session.ensure_reviewed().mark_region((slice(10, 50), slice(20, 70)))
    [pending], _ = collect_examples(session, "image")
    example = pending.read()
    grey = rgb.astype(np.float64) @ WEIGHTS
    assert example.image.shape == rgb.shape[:2]  # (one channel; the box and its context)
    np.testing.assert_allclose(example.image, grey, rtol=1e-6)
    # Bit for bit what the Segment run fed the model.
    np.testing.assert_array_equal(example.image, np.asarray(result.job.data))
    assert not np.allclose(example.image, rgb[..., 0])


def test_the_panel_says_when_the_axes_were_guessed(studio, qtbot, tmp_path, nuclei_crop, segment_panel_of):
    """A plain multi-page TIFF (no axis names) is read as ZYX: the panel says so next to
    the axes, with our reader and napari's own, until the user types them; a file that
    names its axes gets no note."""
    frames = np.ascontiguousarray(nuclei_crop[0][:3, :40, :40])
    bare = tmp_path / "frames.tif"
    tifffile.imwrite(bare, frames, metadata=None, photometric="minisblack")
    stated = tmp_path / "stated.tif"
    tifffile.imwrite(stated, frames, imagej=True, metadata={"axes": "TYX"})
    viewer = studio.viewer
    viewer.open(str(bare), plugin="unet-studio")
    panel = segment_panel_of(studio)
    assert panel.axes_edit.text() == "ZYX" and not panel.axes_note.isHidden()
    assert panel.axes_note.text() == ("guessed — the file does not name its axes; type them "
                                      "if wrong")
    panel.axes_edit.selectAll()
    qtbot.keyClicks(panel.axes_edit, "TYX")
    assert panel.axes_note.isHidden() and panel.axes_note.text() == ""
    assert panel.request().axes == "TYX"

    viewer.open(str(stated), plugin="unet-studio")
    panel.refresh_choices()
    assert panel.image_combo.currentText() == "stated" and panel.axes_edit.text() == "TYX"
    assert panel.axes_note.isHidden()

    viewer.layers.clear()
    viewer.open(str(bare), plugin="napari")
    panel.refresh_choices()
    assert panel.axes_edit.text() == "ZYX" and not panel.axes_note.isHidden()


@pytest.mark.slow
def test_the_range_of_stacked_channel_layers_is_kept_between_runs(studio, qtbot, tmp_path,
                                                                  models, nuclei_crop, passes, run_segment, segment_panel_of):
    """A hyperstack's channel layers stacked for a 2-channel model: one pass over their
    pixels for two runs (every run made a pass: the stack is made anew each time). A layer
    whose data is replaced: a new pass."""
    image = np.ascontiguousarray(nuclei_crop[0][4:7, 10:58, 20:76])
    two = np.stack([image, image[:, ::-1] // 3], axis=1)  # ZCYX
    path = tmp_path / "zcyx.tif"
    tifffile.imwrite(path, two, imagej=True, metadata={"axes": "ZCYX"})
    viewer = studio.viewer
    studio.session.set_model(str(models[2]))
    viewer.open(str(path), plugin="unet-studio")
    qtbot.waitUntil(lambda: viewer.layers.selection.active.name == "zcyx [C0]")  # (the first)
    panel = segment_panel_of(studio)
    first = run_segment(panel, "probabilities")
    shown = _probabilities(viewer, "zcyx [C0]")
    run_segment(panel, "probabilities")
    assert [shape for _, shape in passes] == [(*image.shape, 2)]
    np.testing.assert_array_equal(_probabilities(viewer, "zcyx [C0]"), shown)
    assert first.job.axes == "ZYXC"
    viewer.layers["zcyx [C0]"].data = np.asarray(viewer.layers["zcyx [C0]"].data) // 2
    run_segment(panel, "probabilities")
    assert [shape for _, shape in passes] == [(*image.shape, 2)] * 2
