"""The bioformats2raw layout (``x.zarr/`` holding images ``0/``, ``1/``, ... and ``OME/``
metadata, what bioformats2raw and many converters write) opens its first image, or the
series asked for, and the CLI says which it segments."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from unet_studio.app.cli import main
from unet_studio.app.errors import InputFileError
from unet_studio.app.io import open_stack


def _image(group, name: str, data: np.ndarray, pixel_um: float, *, ome_05: bool) -> None:
    """An NGFF image group ``name`` (axes z, y, x, one level) inside ``group``."""
    image = group.create_group(name)
    image.create_array("0", shape=data.shape, dtype=data.dtype, chunks=(2, 16, 16))[:] = data
    multiscales = [{"axes": [{"name": "z", "type": "space", "unit": "micrometer"},
                             {"name": "y", "type": "space", "unit": "micrometer"},
                             {"name": "x", "type": "space", "unit": "micrometer"}],
                    "datasets": [{"path": "0", "coordinateTransformations": [
                        {"type": "scale", "scale": [2.0, pixel_um, pixel_um]}]}]}]
    if ome_05:
        image.attrs["ome"] = {"version": "0.5", "multiscales": multiscales}
    else:
        image.attrs["multiscales"] = [{"version": "0.4", **multiscales[0]}]


def make_bioformats2raw(path, images: list[np.ndarray], *, ome_05: bool = False,
                        list_series: bool = True) -> None:
    """A bioformats2raw layout of ``images`` (0.4: Zarr v2, ``OME`` listing the series;
    0.5: Zarr v3, keys under "ome"); ``list_series=False`` leaves the series to be found
    as the groups 0, 1, ... (the spec allows both)."""
    root = zarr.open_group(str(path), mode="w", zarr_format=3 if ome_05 else 2)
    layout = {"bioformats2raw.layout": 3}
    root.attrs.update({"ome": {"version": "0.5", **layout}} if ome_05 else layout)
    for index, data in enumerate(images):
        _image(root, str(index), data, 0.5 + index, ome_05=ome_05)
    ome = root.create_group("OME")
    if list_series:
        series = [str(i) for i in range(len(images))]
        ome.attrs.update({"ome": {"version": "0.5", "series": series}} if ome_05 else {"series": series})
    (path / "OME" / "METADATA.ome.xml").write_text("<OME/>")


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return [(rng.random((3, 40, 52)) * 4000).astype(np.uint16),
            (rng.random((2, 24, 30)) * 4000).astype(np.uint16)]


@pytest.mark.parametrize(("ome_05", "list_series"), [(False, True), (True, True), (False, False)])
def test_opens_the_first_image_or_the_series_asked_for(tmp_path, images, ome_05, list_series):
    path = tmp_path / "plate.zarr"
    make_bioformats2raw(path, images, ome_05=ome_05, list_series=list_series)
    with open_stack(path) as first:
        assert first.axes == "ZYX" and first.shape == images[0].shape
        assert first.scale == pytest.approx({"Z": 2.0, "Y": 0.5, "X": 0.5})
        assert (first.metadata["series_count"], first.metadata["series"]) == (2, 0)
        assert first.metadata["series_path"] == "0" and first.name == "plate"
        np.testing.assert_array_equal(first.to_numpy(), images[0])
    with open_stack(path, series=1) as second:
        assert second.scale["X"] == pytest.approx(1.5) and second.metadata["series"] == 1
        np.testing.assert_array_equal(second.to_numpy(), images[1])
    with pytest.raises(InputFileError, match="has 2 image series; there is no series 3"):
        open_stack(path, series=2)


def test_series_named_by_the_ome_group_are_taken_in_its_order(tmp_path, images):
    path = tmp_path / "named.zarr"
    make_bioformats2raw(path, images)
    zarr.open_group(str(path / "OME"), mode="r+").attrs["series"] = ["1", "0"]
    with open_stack(path) as first:
        assert first.metadata["series_path"] == "1"
        np.testing.assert_array_equal(first.to_numpy(), images[1])


def test_layouts_it_cannot_read_are_one_clear_error(tmp_path, images):
    empty = tmp_path / "empty.zarr"
    zarr.open_group(str(empty), mode="w", zarr_format=2).attrs["bioformats2raw.layout"] = 3
    with pytest.raises(InputFileError, match="holding no image"):
        open_stack(empty)
    plate = tmp_path / "plate.zarr"
    make_bioformats2raw(plate, images[:1])
    zarr.open_group(str(plate), mode="r+").attrs["plate"] = {"wells": []}
    with pytest.raises(InputFileError, match="is a plate"):
        open_stack(plate)
    future = tmp_path / "future.zarr"
    make_bioformats2raw(future, images[:1])
    zarr.open_group(str(future), mode="r+").attrs["bioformats2raw.layout"] = 4
    with pytest.raises(InputFileError, match="version 3 is supported"):
        open_stack(future)


def test_predict_segments_the_first_series_and_says_so(tmp_path, images, model_dir, capsys):
    path = tmp_path / "x.zarr"
    make_bioformats2raw(path, images)
    first, second = tmp_path / "first.tif", tmp_path / "second.tif"
    assert main(["predict", str(path), "-o", str(first), "--model", str(model_dir),
                 "--device", "cpu"]) == 0
    assert "holds 2 image series; segmenting the first" in capsys.readouterr().err
    assert main(["predict", str(path), "-o", str(second), "--series", "2", "--model",
                 str(model_dir), "--device", "cpu"]) == 0
    assert "image series" not in capsys.readouterr().err  # chosen: nothing to point out
    with open_stack(first) as labels, open_stack(second) as other:
        assert labels.shape == images[0].shape and other.shape == images[1].shape
        assert labels.scale["X"] == pytest.approx(0.5) and other.scale["X"] == pytest.approx(1.5)
