"""The Segment panel on multichannel, RGB(A) and time-lapse files opened in a real viewer:
the channels a model takes reach it as on the command line (same pixels out), a model that
cannot take the image is refused before the run, and labels lie over the image."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import open_stack

pytestmark = pytest.mark.qt

SPACING = {"Z": 0.29, "Y": 0.26, "X": 0.26}


@pytest.fixture(scope="session")
def channel_models(tmp_path_factory) -> dict:
    """Tiny 2D U-Nets (random weights) taking 1, 2 and 3 channels: {in_channels: folder}."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    folders = {}
    for channels in (1, 2, 3):
        torch.manual_seed(channels)
        net = build_model("unet", spatial_dims=2, in_channels=channels, base_channels=4, depth=2)
        folder = tmp_path_factory.mktemp("channel_models") / f"c{channels}"
        folders[channels] = save_model(net, folder, metadata={"name": f"c{channels}"})
    return folders


@pytest.fixture(scope="session")
def nuclei(nuclei_crop) -> np.ndarray:
    """(Z, Y, X) = (4, 48, 56) uint16 of real nuclei."""
    return np.ascontiguousarray(nuclei_crop[0][4:8, 10:58, 20:76])


def _hyperstack(folder, nuclei, axes="ZCYX"):
    """An ImageJ hyperstack of two channels (the nuclei, and them mirrored) with its
    calibration, as Fiji writes it."""
    two = np.stack([nuclei, nuclei[:, ::-1] // 3], axis=1)  # ZCYX
    if axes == "TZCYX":
        two = np.stack([two, two[..., ::-1]])
    path = folder / f"{axes.lower()}.tif"
    tifffile.imwrite(path, two, imagej=True, resolution=(1 / 0.26, 1 / 0.26),
                     metadata={"axes": axes, "spacing": 0.29, "unit": "um"})
    return path


def _rgb(nuclei, alpha=False) -> np.ndarray:
    planes = [(p / p.max() * 255).astype(np.uint8) for p in nuclei[:3]]
    if alpha:
        planes.append(np.full_like(planes[0], 255))
    return np.stack(planes, axis=-1)


def _cli(source, model, target, *extra) -> np.ndarray:
    assert main(["predict", str(source), "-o", str(target), "--model", str(model),
                 "--device", "cpu", *extra]) == 0
    with open_stack(target) as result:  # (probabilities: classes first, as the panel shows them)
        data = result.to_numpy()
        return np.moveaxis(data, result.axes.index("C"), 0) if "C" in result.axes else data


def _probabilities(viewer, image_name) -> np.ndarray:
    layers = [layer for layer in viewer.layers if layer.name.startswith(f"{image_name} probabilities")]
    return np.stack([np.asarray(layer.data) for layer in layers])


@pytest.mark.slow
def test_a_two_channel_model_segments_the_channel_layers_of_a_hyperstack(
        studio, qtbot, tmp_path, channel_models, nuclei, run_segment, segment_panel_of):
    """Our reader opens a ZCYX hyperstack as a layer per channel; a model taking two
    channels gets both, in the file's order, as the CLI gives them (it failed with "the
    model takes 2 channel(s), the image has 1" after a pass over the pixels)."""
    path = _hyperstack(tmp_path, nuclei)
    viewer = studio.viewer
    studio.session.set_model(str(channel_models[2]))
    viewer.open(str(path), plugin="unet-studio")
    panel = segment_panel_of(studio)
    assert [layer.name for layer in viewer.layers] == ["zcyx [C0]", "zcyx [C1]"]
    qtbot.waitUntil(lambda: viewer.layers.selection.active.name == "zcyx [C0]")  # (the first)
    assert not panel.channel_spin.isEnabled()  # (the model takes them all)
    assert panel.channel_note.text() == "all 2 channel layers"  # (QA: it said "one channel")
    run_segment(panel, "probabilities")
    shown = _probabilities(viewer, "zcyx [C0]")
    expected = _cli(path, channel_models[2], tmp_path / "p.tif", "--output-type", "probabilities")
    assert shown.shape == expected.shape == (3, *nuclei.shape)
    np.testing.assert_allclose(shown, expected, atol=1e-5)

    result = run_segment(panel, "labels")
    labels_layer = viewer.layers["zcyx [C0] labels"]
    assert labels_layer.data.shape == nuclei.shape and result.job.axes == "ZYXC"
    np.testing.assert_allclose(labels_layer.scale, [SPACING[a] for a in "ZYX"])
    np.testing.assert_array_equal(labels_layer.data, _cli(path, channel_models[2], tmp_path / "l.tif"))
    saved = tmp_path / "saved.tif"  # the plugin's writer keeps axes and calibration
    labels_layer.save(str(saved), plugin="unet-studio")
    with open_stack(saved) as reopened:
        assert reopened.axes == "ZYX"
        assert reopened.scale == pytest.approx(SPACING)
        np.testing.assert_array_equal(reopened.to_numpy(), labels_layer.data)


def test_the_frame_on_screen_of_a_timelapse_with_channels(studio, qtbot, tmp_path,
                                                          channel_models, nuclei, run_segment, segment_panel_of):
    """TZCYX with a two-channel model, "Current slice": the plane on screen only, in the
    labels' own T and Z."""
    path = _hyperstack(tmp_path, nuclei, "TZCYX")
    viewer = studio.viewer
    studio.session.set_model(str(channel_models[2]))
    viewer.open(str(path), plugin="unet-studio")
    qtbot.waitUntil(lambda: viewer.layers.selection.active.name == "tzcyx [C0]")  # (the first)
    viewer.dims.current_step = (1, 2, 0, 0)
    panel = segment_panel_of(studio)
    panel.scope_slice.setChecked(True)
    result = run_segment(panel)
    assert result.job.target[:2] == (slice(1, 2), slice(2, 3))
    labels = viewer.layers["tzcyx [C0] labels"].data
    assert labels.shape == (2, *nuclei.shape)
    assert labels[1, 2].any() and not labels[0].any() and not labels[1, [0, 1, 3]].any()


def test_rgba_gives_its_rgb_to_a_three_channel_model(studio, qtbot, tmp_path, channel_models,
                                                     nuclei, run_segment, segment_panel_of):
    """An RGBA image and a model taking 3 channels: R, G and B go in, alpha stays out, in
    the panel and on the command line (both refused it: 1 channel, and 4)."""
    rgba, rgb = tmp_path / "rgba.tif", tmp_path / "rgb.tif"
    tifffile.imwrite(rgba, _rgb(nuclei, alpha=True), photometric="rgb", extrasamples=[2])
    tifffile.imwrite(rgb, _rgb(nuclei), photometric="rgb")
    viewer = studio.viewer
    studio.session.set_model(str(channel_models[3]))
    viewer.open(str(rgba), plugin="unet-studio")
    panel = segment_panel_of(studio)
    assert viewer.layers["rgba"].rgb and not panel.channel_spin.isEnabled()
    run_segment(panel, "probabilities")
    shown = _probabilities(viewer, "rgba")
    from_rgb = _cli(rgb, channel_models[3], tmp_path / "rgb_p.tif", "--output-type", "probabilities")
    from_rgba = _cli(rgba, channel_models[3], tmp_path / "rgba_p.tif", "--output-type", "probabilities")
    np.testing.assert_allclose(shown, from_rgb, atol=1e-5)
    np.testing.assert_allclose(from_rgba, from_rgb, atol=1e-5)


def test_the_channel_box_follows_the_model(studio, qtbot, channel_models, nuclei, run_segment, segment_panel_of):
    """An RGB image: a one-channel model picks a colour (the Channel box, up to 2) or the
    luminance (below them, where it starts); a model taking 3 channels takes them all (the
    box was always on, and its channel 0 went in alone: "the model takes 3 channel(s), the
    image has 1")."""
    studio.viewer.add_image(_rgb(nuclei), name="rgb", rgb=True)
    studio.session.set_model(str(channel_models[1]))
    panel = segment_panel_of(studio)
    assert panel.channel_spin.isEnabled() and panel.channel_spin.maximum() == 2
    assert panel.channel_spin.text() == "luminance"
    studio.session.set_model(str(channel_models[3]))
    assert not panel.channel_spin.isEnabled() and panel.channel_spin.text() == "all"
    result = run_segment(panel)
    assert result.job.request.channel is None and result.job.axes == "YXC"
    assert studio.host.current_labels().shape == nuclei.shape[1:]
    studio.session.set_model(str(channel_models[1]))
    assert panel.channel_spin.isEnabled() and panel.channel_spin.text() == "luminance"


def test_a_model_taking_more_channels_than_the_image_has_is_refused_before_the_run(
        studio, qtbot, channel_models, nuclei, segment_panel_of):
    """Said at the click, naming the model, the image and what to do; nothing runs, no
    labels layer appears (it failed in the worker, "Prediction failed: ValueError: ...",
    after a pass over every pixel)."""
    viewer = studio.viewer
    viewer.add_image(nuclei, name="nuclei", metadata={"axes": "ZYX"})
    studio.session.set_model(str(channel_models[3]))
    panel = segment_panel_of(studio)
    panel.run()
    assert panel.worker is None and panel.run_button.isEnabled()
    assert panel.status.text() == ("Not started: c3 takes 3 channels, nuclei has 1: open the "
                                   "file with its 3 channels, or choose a model that takes one "
                                   "channel")
    assert [layer.name for layer in viewer.layers] == ["nuclei"]


def test_labels_are_refused_where_napari_would_put_them_on_the_channels(
        studio, qtbot, channel_models, nuclei, run_segment, segment_panel_of):
    """A ZCYX layer (a hyperstack opened by napari's own reader, axes set to ZCYX): napari
    lines the ZYX labels up with the layer's last three axes, C Y X, so each label plane
    showed over another one. Refused, saying what to do; a CZYX layer segments."""
    viewer = studio.viewer
    two = np.stack([nuclei, nuclei[:, ::-1]], axis=1)
    viewer.add_image(two, name="zcyx", metadata={"axes": "ZCYX"})
    studio.session.set_model(str(channel_models[1]))
    panel = segment_panel_of(studio)
    panel.run()
    assert panel.worker is None and "unet-studio reader" in panel.status.text()
    assert [layer.name for layer in viewer.layers] == ["zcyx"]
    viewer.add_image(np.moveaxis(two, 1, 0), name="czyx", metadata={"axes": "CZYX"})
    panel.channel_spin.setValue(1)
    result = run_segment(panel)
    assert result.job.image_name == "czyx" and result.job.axes == "ZYX"
    assert viewer.layers["czyx labels"].data.shape == nuclei.shape


@pytest.mark.slow
def test_channel_layers_split_by_napari_s_own_reader(studio, qtbot, tmp_path, channel_models,
                                                     nuclei, run_segment, segment_panel_of):
    """napari's reader with ``channel_axis`` splits the file as ours does: its channel
    layers go to a two-channel model together, and one of them to a one-channel model."""
    path = _hyperstack(tmp_path, nuclei)
    viewer = studio.viewer
    viewer.open(str(path), plugin="napari", channel_axis=1, name=["DNA", "mirror"])
    studio.session.set_model(str(channel_models[2]))
    panel = segment_panel_of(studio)
    run_segment(panel, "probabilities")
    expected = _cli(path, channel_models[2], tmp_path / "p.tif", "--output-type", "probabilities")
    np.testing.assert_allclose(_probabilities(viewer, "mirror"), expected, atol=1e-5)
    studio.session.set_model(str(channel_models[1]))
    index = panel.image_combo.findText("DNA")
    panel.image_combo.setCurrentIndex(index)
    panel.image_combo.activated.emit(index)  # (as the user's choice)
    result = run_segment(panel)
    assert result.job.image_name == "DNA" and result.job.axes == "ZYX"


def test_the_channel_picked_for_an_rgb_image_stays_its_own(studio, qtbot, channel_models, nuclei,
                                                           run_segment, segment_panel_of):  # fmt: skip
    """Green picked for an RGB image stays green when the user turns to another image and
    back, and a new panel (a reopened project) shows the channel the project recorded at
    the run: it fell back to luminance, and the next run recorded luminance for training."""
    studio.viewer.add_image(_rgb(nuclei), name="rgb", rgb=True)
    studio.viewer.add_image(nuclei[0], name="grey")
    studio.session.set_model(str(channel_models[1]))
    studio.session.select_image("rgb")
    panel = segment_panel_of(studio)
    panel.channel_spin.setValue(1)  # green
    run_segment(panel)
    panel.image_combo.setCurrentText("grey")
    panel.image_combo.setCurrentText("rgb")
    assert panel.channel_spin.value() == 1
    again = segment_panel_of(studio)  # (knows only the project's record)
    again.image_combo.setCurrentText("rgb")
    assert again.channel_spin.value() == 1 and again._chosen_channel() == 1


def test_a_channel_layer_says_the_channel_is_picked_by_its_layer(studio, tmp_path, nuclei, segment_panel_of):
    studio.viewer.open(str(_hyperstack(tmp_path, nuclei)), plugin="unet-studio")
    panel = segment_panel_of(studio)
    assert not panel.channel_spin.isVisible() and panel.channel_note.text() == (
        "this layer's (one of 2 channel layers)")
    assert "choose its layer in the Image list" in panel.channel_note.toolTip()


def test_a_file_of_channel_layers_opens_with_its_first_channel_current(studio, qtbot, tmp_path,
                                                                       nuclei, segment_panel_of):
    """QA: napari made the last channel layer current (a second stain), and Run at once
    segmented it with a nuclei model; the first channel is current, and Run says so."""
    viewer = studio.viewer
    panel = segment_panel_of(studio)
    viewer.open(str(_hyperstack(tmp_path, nuclei)), plugin="unet-studio")
    qtbot.waitUntil(lambda: viewer.layers.selection.active.name == "zcyx [C0]")
    assert studio.host.current_image().name == "zcyx [C0]"
    qtbot.waitUntil(lambda: "Run segments zcyx [C0]" in panel.status.text())
    viewer.layers.selection.active = viewer.layers["zcyx [C1]"]  # (the user's choice stays)
    qtbot.wait(50)
    assert studio.host.current_image().name == "zcyx [C1]"
