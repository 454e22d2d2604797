"""BatchNorm statistics in a fine-tuning round: with ``norm_statistics`` "freeze" (or "auto" on a
trained network that already knows the images) the running statistics the model predicts with
stay exactly as they were while the weights learn; "update", "auto" from scratch and "auto" on
images new to the model let them move."""

import math
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from unet_studio.models.registry import build_model
from unet_studio.models.training import (
    FinetuneConfig,
    TrainingExample,
    finetune,
    iter_finetune,
    polarity,
)
from unet_studio.models.training.lineage import lineage_metadata
from unet_studio.models.weights import load_model

QUICK = dict(max_seconds=None, max_steps=6, batch_size=2, patch_size=48, val_every=3,
             device="cpu", warmup_steps=1)


@pytest.fixture(scope="module")
def example(test_data_dir):
    image = tifffile.imread(test_data_dir / "train_img.tif")
    labels = tifffile.imread(test_data_dir / "train_labels.tif").astype(np.int32)
    return TrainingExample(image[0, :96, :96], labels[0, :96, :96], name="hela t0")


def _batchnorm_net(trained: bool = True):
    torch.manual_seed(0)
    net = build_model("unet", base_channels=4, depth=2, norm="batch")
    if trained:  # statistics unlike a fresh net's 0 and 1, from batches seen, as in a model
        for module in net.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.num_batches_tracked.fill_(1000)
    return net


def _statistics(net) -> dict:
    return {name: value.detach().clone() for name, value in net.state_dict().items()
            if "running_" in name or "num_batches_tracked" in name}


def _weights(net) -> dict:
    return {name: value.detach().clone() for name, value in net.named_parameters()}


@pytest.mark.parametrize(("setting", "trained", "freeze"), [
    ("freeze", True, True), ("update", True, False),
    ("auto", False, False),  # training from scratch: the statistics start at 0 and 1
])
def test_frozen_norm_statistics_stay_while_the_weights_learn(example, setting, trained, freeze):
    net = _batchnorm_net(trained)
    statistics, weights = _statistics(net), _weights(net)
    assert statistics
    # (val_fraction 0: no held-out data, so the returned weights are the last step's)
    finetune(net, [example], FinetuneConfig(**QUICK, val_fraction=0.0, norm_statistics=setting))
    after = _statistics(net)
    unchanged = all(torch.equal(statistics[k], after[k]) for k in statistics)
    assert unchanged == freeze
    learnt = _weights(net)
    assert any(not torch.equal(weights[k], learnt[k]) for k in weights)
    # the BatchNorm affine weights still train when the statistics are frozen
    assert any(not torch.equal(weights[k], learnt[k]) for k in weights
               if k.endswith(".weight") and weights[k].ndim == 1)


def test_the_setting_round_trips_and_an_old_checkpoint_still_matches():
    config = FinetuneConfig(**QUICK)
    assert FinetuneConfig.from_dict(config.to_dict()) == config
    # (a checkpoint written before the setting existed carries no such key)
    default = FinetuneConfig(**{**QUICK, "norm_statistics": "update"})
    assert "norm_statistics" not in default.fingerprint()
    assert "norm_statistics" in FinetuneConfig(**QUICK, norm_statistics="freeze").fingerprint()
    with pytest.raises(ValueError, match="norm_statistics must be one of"):
        FinetuneConfig(**QUICK, norm_statistics="frozen")


DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "default"


@pytest.fixture(scope="module")
def unfamiliar(example):
    """The same cells with their contrast inverted (dark nuclei on a bright background): to
    the fluorescence model a modality it never saw."""
    return TrainingExample(example.image.max() - example.image, example.labels, name="inverted")


@pytest.mark.parametrize(("images", "held"), [("example", True), ("unfamiliar", False)])
def test_auto_holds_the_statistics_when_the_model_knows_the_images(request, images, held,
                                                                   monkeypatch):
    """"auto" on a trained model: its statistics hold still on fluorescence nuclei like the
    ones it learnt (a round polishes), and move on inverted contrast (they must adapt)."""
    # (inverted contrast stands for a modality the model never saw: the round must not
    # invert it back, ``polarity.py``, which would make it the model's own images again)
    monkeypatch.setattr(polarity, "POLARITY_MARGIN", math.inf)
    net = load_model(DEFAULT_MODEL)
    statistics = _statistics(net)
    result = finetune(net, [request.getfixturevalue(images)],
                      FinetuneConfig(**QUICK, val_fraction=0.0, norm_statistics="auto"))
    after = _statistics(net)
    assert all(torch.equal(statistics[k], after[k]) for k in statistics) == held
    # the model card says which, and on what figure
    card = lineage_metadata(result, name="round 1")["card"]
    loss = result.extra["starting_loss"]
    assert (loss < 1.1) == held
    # the measured fact (not "new to the starting model": they may be its own images)
    said = ("kept from the starting model: " if held else "adapted to these images: ") + \
        f"the starting model's loss on these corrections before training ({loss:.2f}) " \
        f"was {'below' if held else 'above'} chance (1.10)"  # (ln 3: its 3 outputs)
    assert f"- normalisation statistics: {said}\n" in card


def test_a_resumed_round_keeps_the_choice_it_started_with(example, tmp_path):
    """The choice is made once, on the starting weights: a round resumed from its checkpoint
    (whose network has seen batches whatever) keeps holding the statistics."""
    net = load_model(DEFAULT_MODEL)
    statistics = _statistics(net)
    config = FinetuneConfig(**{**QUICK, "max_steps": 8}, val_fraction=0.0,
                            norm_statistics="auto", checkpoint_seconds=0.0)
    run = iter_finetune(net, [example], config, checkpoint_dir=tmp_path)
    for progress in run:
        if progress.step == 3:
            run.close()
    resumed = load_model(DEFAULT_MODEL)
    steps = [progress.step for progress in iter_finetune(resumed, [example], config,
                                                            checkpoint_dir=tmp_path)]
    assert steps[0] == 4 and steps[-1] == 8
    after = _statistics(resumed)
    assert all(torch.equal(statistics[k], after[k]) for k in statistics)


def test_the_familiarity_probe_keeps_to_its_share_of_a_time_budget(example):
    """The probe's batches stop once they used their seconds (one batch at least); without
    a time limit all of them run. A slow 3D network's four took half a one-minute round."""
    import time

    from unet_studio.models.training.norm_stats import PROBE_BATCHES, starting_loss
    from unet_studio.models.training.session import Session

    session = Session(_batchnorm_net(), [example], FinetuneConfig(**QUICK))
    drawn = []

    class SlowSampler:  # each batch drawn costs 50 ms
        def sample(self, count):
            drawn.append(count)
            time.sleep(0.05)
            return session.sampler.sample(count)

    options = dict(config=session.config, device="cpu", autocast=session._autocast)
    loss = starting_loss(session.net, SlowSampler(), session.out_shape, seconds=0.0, **options)
    assert len(drawn) == 1 and np.isfinite(loss)
    drawn.clear()
    starting_loss(session.net, SlowSampler(), session.out_shape, **options)
    assert len(drawn) == PROBE_BATCHES
