"""`unet-studio predict` on the intensities microscopists hand over: float64 beyond float32's
range, NaN and inf pixels, an image of one value, an image with no finite pixel. The Segment
panel's path (``app.qt.segment_logic``: the same ``models.pipeline``) gives the same labels
as the command line. The default model on a real Hoechst frame (128 x 256)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import open_stack


@pytest.fixture(scope="module")
def hoechst(test_data_dir) -> np.ndarray:
    return tifffile.imread(test_data_dir / "default_hoechst_f8_img.tif")


@pytest.fixture(scope="module")
def default_net():
    from unet_studio.app.model_library import bundled_models_dir
    from unet_studio.models.weights import load_model

    return load_model(bundled_models_dir() / "default")


def predicted(source, target) -> np.ndarray:
    assert main(["predict", str(source), "-o", str(target), "--device", "cpu"]) == 0
    with open_stack(target) as result:
        return result.to_numpy()


def segment_panel_labels(net, image: np.ndarray) -> np.ndarray:
    """What the Segment panel computes for ``image`` (axes YX) on the in-memory host."""
    from unet_studio.app.host import FakeHost, full_view
    from unet_studio.app.qt.segment_logic import SegmentRequest, iter_segment, plan_job
    from unet_studio.models.generators import drain

    host = FakeHost()
    host.add_image(image, "YX", name="image")
    request = SegmentRequest(model_path="default", device="cpu")
    job = plan_job(host.image, request, full_view(image.shape), "YX")
    return drain(iter_segment(job, library=None, net=net)).output


def test_a_float64_image_beyond_float32_segments_as_the_same_image_scaled_down(
        tmp_path, hoechst, default_net):
    """1e300 times the frame: cast to float32 first it was all inf, and 0 objects, exit 0."""
    huge = hoechst.astype(np.float64) * 1e300
    tifffile.imwrite(tmp_path / "huge.tif", huge)
    tifffile.imwrite(tmp_path / "plain.tif", hoechst)
    plain = predicted(tmp_path / "plain.tif", tmp_path / "plain_labels.tif")
    big = predicted(tmp_path / "huge.tif", tmp_path / "huge_labels.tif")
    assert plain.max() >= 10
    np.testing.assert_array_equal(big, plain)
    np.testing.assert_array_equal(segment_panel_labels(default_net, huge), big)


def test_nan_and_inf_pixels_are_counted_naming_the_file_and_segmented_as_background(
        tmp_path, hoechst, default_net, caplog):
    """A NaN block over nuclei (a masked region) holds no object afterwards; the rest of the
    frame still segments, as the panel segments it."""
    clean = predicted(_write(tmp_path / "clean.tif", hoechst.astype(np.float32)),
                      tmp_path / "clean_labels.tif")
    image = hoechst.astype(np.float32)
    image[40:90, 100:160] = np.nan
    image[5, 5], image[6, 6] = np.inf, -np.inf
    source = _write(tmp_path / "masked.tif", image)
    with caplog.at_level(logging.WARNING):
        labels = predicted(source, tmp_path / "masked_labels.tif")
    assert f"{source}: 3002 NaN or infinite pixels, left out of the intensity percentiles" in caplog.text
    assert clean[44:86, 104:156].any() and not labels[44:86, 104:156].any()
    assert len(np.unique(labels)) - 1 >= 0.7 * (len(np.unique(clean)) - 1)
    np.testing.assert_array_equal(segment_panel_labels(default_net, image), labels)


def _write(path, image):
    tifffile.imwrite(path, image)
    return path


def test_an_image_without_a_finite_pixel_is_refused_in_one_line_naming_it(tmp_path, capsys):
    source = _write(tmp_path / "blank.tif", np.full((40, 50), np.nan, np.float32))
    out = tmp_path / "out"
    assert main(["predict", str(source), "-o", str(out / "labels.tif"), "--device", "cpu"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0] == (f"unet-studio: error: {source}: has no finite pixel "
                                            "value (all NaN or infinite): nothing to normalise "
                                            "its intensities by")
    assert not out.exists()


def test_an_image_of_one_value_gives_no_objects_and_says_why(tmp_path, capsys, caplog):
    source = _write(tmp_path / "empty_well.tif", np.full((40, 50), 7, np.uint16))
    target = tmp_path / "labels.tif"
    with caplog.at_level(logging.WARNING):
        labels = predicted(source, target)
    assert not labels.any()
    assert f"{source}: every pixel has the same value (7): no contrast" in caplog.text
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"empty_well: wrote {target}: 0 objects"


def test_the_percentiles_are_taken_once_per_file_never_per_tile(tmp_path, monkeypatch):
    """A two-time-point stack cut into many tiles: one pass over its pixels for the range
    (the command line takes it to warn naming the file; the engine reuses it)."""
    from unet_studio.models import normalize

    calls = []
    real = normalize.exact_percentiles

    def counted(image, *args, **kwargs):
        calls.append(tuple(image.shape))
        return real(image, *args, **kwargs)

    monkeypatch.setattr(normalize, "exact_percentiles", counted)
    movie = (np.random.default_rng(0).random((2, 2, 48, 64)) * 4000).astype(np.uint16)
    source = tmp_path / "movie.tif"
    tifffile.imwrite(source, movie, imagej=True, metadata={"axes": "TZYX"})
    assert main(["predict", str(source), "-o", str(tmp_path / "labels.tif"), "--tile", "32",
                 "--device", "cpu"]) == 0
    assert calls == [(2, 2, 48, 64)]
