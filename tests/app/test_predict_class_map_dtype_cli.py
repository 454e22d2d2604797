"""`unet-studio predict` with a semantic model stores its class map as uint8 in every format
(int32 took 4 bytes a pixel for values 0..2), streamed as uint8 too, and the CLI still reads
the file as the class map it is."""

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import open_stack


@pytest.mark.parametrize("name", ["out.tif", "out.ome.tif", "out.zarr"])
def test_a_class_map_is_written_as_uint8(tmp_path, name, nucleus_classes_model, capsys,
                                         csv_rows):
    image = (np.arange(2 * 32 * 40) % 97).reshape(2, 32, 40).astype(np.uint16)
    tifffile.imwrite(tmp_path / "image.tif", image, imagej=True, metadata={"axes": "ZYX"})
    out = tmp_path / name
    assert main(["predict", str(tmp_path / "image.tif"), "-o", str(out), "--model",
                 str(nucleus_classes_model), "--device", "cpu"]) == 0
    if name.endswith(".zarr"):
        import zarr

        stored = zarr.open_group(str(out), mode="r")["0"].dtype
    else:
        with tifffile.TiffFile(out) as tif:  # (what other readers get, as stored)
            stored = tif.series[0].dtype
            assert tif.is_imagej == (name == "out.tif")
    assert np.dtype(stored) == np.uint8
    with open_stack(out) as back:
        assert back.dtype == np.uint8 and back.shape == (2, 32, 40)
        assert back.metadata["class_names"] == ["background", "nucleus", "nucleus edge"]
        assert int(np.asarray(back.data).max()) <= 2
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    assert "class map of 3 classes: 0 background, 1 nucleus, 2 nucleus edge" in \
        capsys.readouterr().out
    table = tmp_path / "classes.csv"
    assert main(["measure", str(out), "-o", str(table)]) == 0
    assert capsys.readouterr().out.startswith("class map (recorded classes: background, ")
    assert {row["class_name"] for row in csv_rows(table)} <= {"nucleus", "nucleus edge"}
    assert main(["evaluate", str(out), str(out)]) == 0
    assert capsys.readouterr().out.startswith("class map (recorded classes: background, ")


def test_a_class_map_is_compressed_by_its_own_size(tmp_path, nucleus_classes_model, capsys,
                                                   monkeypatch):
    """The 1 GiB rule weighs the uint8 pixels written (2 x 32 x 40: 2560 bytes), not the
    4 bytes a pixel of instance labels."""
    from unet_studio.app.io import output

    image = (np.arange(2 * 32 * 40) % 97).reshape(2, 32, 40).astype(np.uint16)
    tifffile.imwrite(tmp_path / "image.tif", image, imagej=True, metadata={"axes": "ZYX"})
    for limit, target in ((4000, tmp_path / "small.ome.tif"), (2000, tmp_path / "big.ome.tif")):
        monkeypatch.setattr(output, "COMPRESS_BELOW", limit)
        assert main(["predict", str(tmp_path / "image.tif"), "-o", str(target), "--model",
                     str(nucleus_classes_model), "--device", "cpu"]) == 0
        last = capsys.readouterr().err.strip().splitlines()[-1]
        with tifffile.TiffFile(target) as tif:
            compressed = tif.pages[0].compression != tifffile.COMPRESSION.NONE
        assert compressed == (limit == 4000)
        assert ("left uncompressed (2.5 KiB > 2.0 KiB)" in last) == (limit == 2000)
