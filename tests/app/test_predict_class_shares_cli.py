"""`unet-studio predict --output-type labels` with a semantic model says each class's share
of the file written (as the Segment panel's Done line does), not objects it never made."""

import numpy as np
import pytest
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.io import open_stack

CLASSES = ["background", "mitochondria", "membrane"]


@pytest.fixture
def em_model(tmp_path):
    """A tiny 2D semantic model of the three CLASSES, saved as a model folder, that finds
    each of them in the image of the test."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2, out_channels=3).eval()
    # (untrained, it calls every pixel background: its head's weak response to the image,
    # amplified and centred, makes it call all three classes)
    with torch.no_grad():
        net.head.conv.weight *= 1000
        net.head.conv.bias.zero_()
        ramp = torch.tensor(np.arange(32 * 32) % 97, dtype=torch.float32).reshape(1, 1, 32, 32)
        net.head.conv.bias -= net(ramp / 96).mean((0, 2, 3))
    return save_model(net, tmp_path / "em", task=TaskSpec(kind="semantic", class_names=tuple(CLASSES)),
                      metadata={"name": "em"})


def _shares(classes: np.ndarray) -> str:
    """Each class's percentage of ``classes``' pixels, whole percents ("<1%" for a few)."""
    shares = []
    for value, name in enumerate(CLASSES):
        share = 100 * np.count_nonzero(classes == value) / classes.size
        shares.append(f"{name} {'<1' if 0 < share < 1 else round(share)}%")
    return ", ".join(shares)


@pytest.mark.parametrize("name", ["out.tif", "out.zarr"])
def test_a_class_map_says_the_share_of_each_class(tmp_path, em_model, capsys, name):
    image = (np.arange(2 * 32 * 32) % 97).reshape(2, 32, 32).astype(np.uint16)
    tifffile.imwrite(tmp_path / "image.tif", image, imagej=True, metadata={"axes": "TYX"})
    out = tmp_path / name
    assert main(["predict", str(tmp_path / "image.tif"), "-o", str(out), "--model",
                 str(em_model), "--device", "cpu", "--output-type", "labels"]) == 0
    wrote = next(line for line in capsys.readouterr().err.splitlines() if "wrote" in line)
    with open_stack(out) as back:
        written = np.asarray(back.data)
    assert len(np.unique(written)) == len(CLASSES)  # (not all background)
    assert wrote.endswith(f"wrote {out}: {_shares(written)}")
    assert "object" not in wrote
