"""`unet-studio predict -o X.tif`: labels are a uint16 ImageJ hyperstack, as the GUI saves
them, so that Fiji's File > Open (ImageJ's own TIFF reader, which ignores OME-XML) shows
frames as frames with their interval and Z with its spacing."""

from __future__ import annotations

import numpy as np
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import open_stack, write_stack

HELA_SCALE = {"T": 1800.0, "Y": 0.645, "X": 0.645}  # (30 min frames, the CTC HeLa pixel)


def image_file(folder, shape, axes, scale):
    image = (np.random.default_rng(0).random(shape) * 4000).astype(np.uint16)
    return write_stack(folder / "image.tif", image, axes=axes, scale=scale, kind="image")


def predict(source, target, model_dir, *flags) -> int:
    return main(["predict", str(source), "-o", str(target), "--model", str(model_dir),
                 "--device", "cpu", *flags])


def imagej_description(path) -> tuple:
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        return (tif.is_imagej, tif.is_ome, series.dtype, series.axes, tif.imagej_metadata,
                tif.pages[0].get_resolution(), tif.pages[0].compression)


def test_time_series_labels_tif_is_the_imagej_hyperstack_the_gui_writes(tmp_path, model_dir):
    source = image_file(tmp_path, (3, 40, 52), "TYX", HELA_SCALE)
    target = tmp_path / "labels.tif"
    assert predict(source, target, model_dir) == 0
    assert predict(source, tmp_path / "labels.ome.tif", model_dir) == 0
    is_imagej, is_ome, dtype, axes, metadata, _, _ = description = imagej_description(target)
    assert (is_imagej, is_ome, dtype, axes) == (True, False, np.dtype(np.uint16), "TYX")
    assert (metadata["frames"], metadata["finterval"], metadata["unit"]) == (3, 1800.0, "um")
    with open_stack(tmp_path / "labels.ome.tif") as wide:  # (int32: the same ids)
        ids = wide.to_numpy()
    assert ids.dtype == np.int32 and ids.any()
    np.testing.assert_array_equal(tifffile.imread(target), ids)
    saved = write_stack(tmp_path / "saved.tif", ids, axes="TYX", scale=HELA_SCALE)
    assert description == imagej_description(saved)  # (the GUI's labels writer)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "image.tif", "labels.ome.tif", "labels.tif", "saved.tif"]  # (no temporary left)


def test_a_big_3d_labels_tif_stays_uncompressed_and_keeps_its_z_spacing(
        tmp_path, model_dir, monkeypatch):
    from unet_studio.app.io import output

    monkeypatch.setattr(output, "COMPRESS_BELOW", 1000)
    source = image_file(tmp_path, (4, 40, 52), "ZYX", {"Z": 2.0, "Y": 0.5, "X": 0.5})
    target = tmp_path / "labels.tif"
    assert predict(source, target, model_dir) == 0
    is_imagej, _, dtype, axes, metadata, resolution, compression = imagej_description(target)
    assert (is_imagej, dtype, axes) == (True, np.dtype(np.uint16), "ZYX")
    assert (metadata["slices"], metadata["spacing"], metadata["unit"]) == (4, 2.0, "um")
    assert resolution == (2.0, 2.0) and compression == tifffile.COMPRESSION.NONE


def test_labels_with_ids_above_65535_stay_int32_ome_and_say_so(tmp_path, model_dir,
                                                               monkeypatch, capsys):
    """The engine's labels shifted past uint16 (a stack with that many objects would take
    minutes): they are kept whole, in the OME-TIFF that holds int32."""
    from unet_studio.models import pipeline

    engine = pipeline.iter_predict_image

    def many_ids(*args, out, **kwargs):
        result = yield from engine(*args, out=out, **kwargs)
        out[out > 0] += 70_000
        return result

    monkeypatch.setattr(pipeline, "iter_predict_image", many_ids)
    source = image_file(tmp_path, (3, 40, 52), "TYX", HELA_SCALE)
    target = tmp_path / "labels.tif"
    assert predict(source, target, model_dir) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1] == (f"{target}: labels with ids above 65535 written as 32-bit OME-TIFF; "
                         "Fiji opens them via Bio-Formats")
    is_imagej, is_ome, dtype, axes, _, _, _ = imagej_description(target)
    assert (is_imagej, is_ome, dtype, axes) == (False, True, np.dtype(np.int32), "TYX")
    assert tifffile.imread(target).max() > 70_000
