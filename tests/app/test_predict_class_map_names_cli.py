"""`unet-studio predict --output-type labels` with a semantic model writes its class names
into the labels file (read back as Stack.metadata["class_names"], a class map in napari)."""

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import open_stack

CLASSES = ["background", "mitochondria", "membrane"]


@pytest.mark.parametrize("name", ["out.tif", "out.zarr"])
def test_semantic_labels_name_their_classes(tmp_path, name):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2, out_channels=3)
    save_model(net, tmp_path / "em", task=TaskSpec(kind="semantic", class_names=tuple(CLASSES)),
               metadata={"name": "em"})
    image = (np.arange(2 * 32 * 32) % 97).reshape(2, 32, 32).astype(np.uint16)
    tifffile.imwrite(tmp_path / "image.tif", image, imagej=True, metadata={"axes": "TYX"})
    out = tmp_path / name
    assert main(["predict", str(tmp_path / "image.tif"), "-o", str(out), "--model",
                 str(tmp_path / "em"), "--device", "cpu", "--output-type", "labels"]) == 0
    with open_stack(out) as back:
        assert back.metadata["class_names"] == CLASSES
