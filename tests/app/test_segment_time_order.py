"""The Segment panel's whole-stack run of a time series gives the ids `unet-studio predict`
gives the same file: its time points are linked in time order, whichever time point is on
screen. That time point is still labelled (and shown) first: a long movie does not make the
user wait for every time point before it."""

from __future__ import annotations

import numpy as np
import tifffile

from unet_studio.app.cli import main
from unet_studio.app.host import HostImage, ViewState
from unet_studio.app.model_library import bundled_models_dir
from unet_studio.app.qt.segment_logic import SegmentRequest, iter_segment, plan_job
from unet_studio.models.weights import load_model


def test_whole_series_from_the_last_time_point_on_screen_gets_the_cli_ids(tmp_path, test_data_dir):
    source = test_data_dir / "io_hela_tyx.tif"  # HeLa nuclei, (T, Y, X) = (3, 64, 96)
    model = bundled_models_dir() / "default"
    target = tmp_path / "cli.tif"
    assert main(["predict", str(source), "-o", str(target), "--model", str(model),
                 "--device", "cpu"]) == 0  # fmt: skip
    cli = tifffile.imread(target)

    image = tifffile.imread(source)
    host_image = HostImage(image, "TYX", {"T": 1.0, "Y": 1.0, "X": 1.0}, "hela")
    # The user looks at the last time point, zoomed in on its top left corner.
    view = ViewState((2, 0, 0), (1, 2), (slice(2, 3), slice(0, 32), slice(0, 48)))
    job = plan_job(host_image, SegmentRequest(model_path=model, device="cpu"), view, "YX", 1)
    run = iter_segment(job, library=None, net=load_model(model))
    labelled = []  # the time point of each labelling step, in order
    try:
        while True:
            step = next(run)
            if step.stage == "postprocess":
                labelled.append(step.region[0].start)
    except StopIteration as done:
        panel = done.value.output

    assert labelled[0] == 2  # the time point on screen first
    assert labelled[1:] == [0, 1, 2]  # then all linked in time order

    assert all(len(np.unique(frame)) > 3 for frame in cli)  # nuclei at every time point
    assert len(set(np.unique(cli[0])) & set(np.unique(cli[2])) - {0}) >= 2  # tracks
    np.testing.assert_array_equal(panel, cli)
