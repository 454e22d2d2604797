"""A Train round's first report: the starting weights' held-out loss at step 0, drawn by
the loss plot (its held-out curve began as a stub at the first validation); and the
verdict's caveat when the held-out blocks hold few objects."""

import numpy as np
import tifffile
import torch

from unet_studio.app.qt.loss_plot import LossPlot
from unet_studio.app.qt.train_logic import held_out_caveat
from unet_studio.models.registry import build_model
from unet_studio.models.training import FinetuneConfig, TrainingExample, iter_finetune
from unet_studio.models.training.checkpoint import LAST

QUICK = dict(max_seconds=None, max_steps=4, batch_size=2, patch_size=48, val_every=2,
             device="cpu", warmup_steps=1, checkpoint_seconds=0.0)


def _round(test_data_dir, **options):
    image = tifffile.imread(test_data_dir / "train_img.tif")
    labels = tifffile.imread(test_data_dir / "train_labels.tif").astype(np.int32)
    example = TrainingExample(image[0, :128, :128], labels[0, :128, :128], name="hela t0")
    torch.manual_seed(0)
    net = build_model("unet", base_channels=4, depth=2)
    return iter_finetune(net, [example], FinetuneConfig(**QUICK, val_fraction=0.3), **options)


def _drain(generator):
    reports = []
    while True:
        try:
            reports.append(next(generator))
        except StopIteration as stop:
            return reports, stop.value


def test_the_loss_plot_draws_the_held_out_loss_before_training(qtbot, test_data_dir):
    from unet_studio.app.qt.train_round import with_before_point

    reports, result = _drain(with_before_point(_round(test_data_dir)))
    first = reports[0]
    assert first.step == 0 and first.validated
    assert first.val_loss == result.metrics_before["val_loss"]
    assert [r.step for r in reports[1:]] == [1, 2, 3, 4]
    plot = LossPlot()
    qtbot.addWidget(plot)
    for progress in reports:  # as the Train panel feeds its plot
        values = {"train_loss": progress.smoothed_loss}
        if progress.validated:
            values.update(val_loss=progress.val_loss, val_score=progress.val_metric)
        plot.add(progress.step, **values)
    held_out = plot.series["held-out loss"]
    assert held_out[0] == (0.0, result.metrics_before["val_loss"])
    assert [x for x, _ in held_out] == [0.0, 2.0, 4.0]
    assert plot.series["held-out score"][0] == (0.0, result.metrics_before["val_metric"])
    # no training loss before training: one point per step, every one finite
    assert [x for x, _ in plot.series["train loss"]] == [1.0, 2.0, 3.0, 4.0]
    plot.resize(300, 200)
    plot.grab()  # paints


def test_cancelling_the_round_still_runs_the_engine_cleanup(tmp_path, test_data_dir):
    from unet_studio.app.qt.train_round import with_before_point

    rounds = with_before_point(_round(test_data_dir, checkpoint_dir=tmp_path))
    next(rounds), next(rounds)  # the before point, step 1 (no checkpoint written yet)
    assert not (tmp_path / LAST).exists()
    rounds.close()
    assert (tmp_path / LAST).exists()  # saved by the engine's cancel, for a resume


class _Result:
    def __init__(self, before):
        self.metrics_before = before


def test_the_verdict_says_it_is_uncertain_with_few_held_out_objects():
    few = held_out_caveat(_Result({"val_loss": 0.3, "val_metric": 0.8, "n_true": 4}))
    assert "only 4 objects" in few and "uncertain" in few
    assert "only 1 object:" in held_out_caveat(_Result({"val_loss": 0.3, "val_metric": 1.0,
                                                         "n_true": 1}))
    assert held_out_caveat(_Result({"val_loss": 0.3, "val_metric": 0.8, "n_true": 30})) == ""
    assert held_out_caveat(_Result({"val_loss": 0.3, "val_metric": 0.7})) == ""  # semantic
