"""Intensity polarity: a model's ``invert_intensity`` flag (its input seen as ``1 - x``),
saved with it, applied at prediction and in training, and set by a fine-tuning round whose
reviewed objects are clearly darker than their background (phase contrast) when the model
expects bright ones (fluorescent nuclei)."""

import json

import numpy as np
import pytest
import torch

from unet_studio.app.commands.finetune_report import report
from unet_studio.models.inference import predict_image
from unet_studio.models.normalize import normalize_intensity
from unet_studio.models.registry import build_model
from unet_studio.models.task import TaskSpec
from unet_studio.models.training import FinetuneConfig, TrainingExample, finetune
from unet_studio.models.training.config import FinetuneConfig as Config
from unet_studio.models.training.harvest import harvest
from unet_studio.models.weights import load_model, save_model

QUICK = dict(max_seconds=None, max_steps=2, batch_size=2, patch_size=48, val_every=5,
             device="cpu", checkpoint_seconds=0.0, warmup_steps=1)


BRIGHT = {"objects": "bright"}  # (what the bundled default records: its objects are bright)


def tiny_net(task: TaskSpec | None = None):
    """A tiny network of bright objects, as the bundled default (``task``: another's)."""
    torch.manual_seed(0)
    net = build_model("unet", base_channels=4, depth=2)
    net.task = task or TaskSpec(extra=dict(BRIGHT))
    return net


def blobs(dark: bool, seed: int = 0) -> TrainingExample:
    """Disks of radius 6 on a 96 x 96 field, each its own label: dark ones (200) on a bright
    background (800) when ``dark``, else the other way round; noisy uint16 pixels."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:96, :96]
    labels = np.zeros((96, 96), np.int32)
    centres = [(y, x) for y in range(12, 96, 24) for x in range(12, 96, 24)]
    for index, (y, x) in enumerate(centres):
        labels[(yy - y) ** 2 + (xx - x) ** 2 <= 36] = index + 1
    objects, background = (200, 800) if dark else (800, 200)
    image = np.where(labels > 0, objects, background) + rng.normal(0, 30, labels.shape)
    return TrainingExample(image.astype(np.uint16), labels, name="blobs")


def network_inputs(net, image, task) -> np.ndarray:
    """What ``net`` was fed when predicting ``image`` (YX) in one tile: ``(C, Y, X)``."""
    seen = []
    assert net.geometry  # (analysed first: its probe passes are no input of the prediction)
    hook = net.register_forward_pre_hook(lambda _module, args: seen.append(args[0].clone()))
    try:
        predict_image(net, image, axes="YX", task=task, output_type="probabilities",
                      tile_shape=1000, device="cpu", amp=False)
    finally:
        hook.remove()
    return seen[0][0].numpy()


def manual_normalised(image) -> np.ndarray:
    lo, hi = np.percentile(image.astype(np.float64), [1.0, 99.8])
    return ((image - lo) / (hi - lo)).astype(np.float32)


def test_a_flagged_config_round_trips_and_prediction_feeds_the_inverted_image(tmp_path):
    folder = save_model(tiny_net(), tmp_path / "dark", task=TaskSpec(invert_intensity=True))
    assert json.loads((folder / "config.json").read_text())["task"]["invert_intensity"] is True
    net = load_model(folder)
    assert net.task.invert_intensity is True
    image = blobs(dark=True).image
    seen = network_inputs(net, image, net.task)
    assert np.abs(seen[0] - (1 - manual_normalised(image))).max() < 1e-6
    # Models without the flag: no key in their config, and the input they had before.
    plain = load_model(save_model(tiny_net(), tmp_path / "plain", task=TaskSpec()))
    assert "invert_intensity" not in json.loads((tmp_path / "plain" / "config.json")
                                                .read_text())["task"]
    assert plain.task == TaskSpec()
    lo, hi = np.percentile(image, [1.0, 99.8])
    expected = normalize_intensity(image, lo, hi)
    assert np.array_equal(network_inputs(plain, image, plain.task)[0], expected)


def test_a_flag_that_is_not_a_boolean_is_refused_saying_so():
    with pytest.raises(ValueError, match="invert_intensity must be true or false"):
        TaskSpec.from_dict({"invert_intensity": "yes"})


def test_training_patches_of_a_flagged_task_are_the_inverted_ones():
    config = Config(**QUICK)
    example = blobs(dark=True)
    made = [harvest([example], spatial_dims=2, in_channels=1, task=task, config=config,
                    patch_shape=(48, 48), rng=np.random.default_rng(0))
            for task in (TaskSpec(), TaskSpec(invert_intensity=True))]
    plain, inverted = made[0].train[0].image, made[1].train[0].image
    assert np.abs(inverted - (1 - plain)).max() < 1e-6


def test_finetuning_a_bright_objects_model_on_dark_objects_inverts_its_input(tmp_path, capsys):
    net = tiny_net()
    result = finetune(net, [blobs(dark=True)], FinetuneConfig(**QUICK))
    note = result.extra["intensity_polarity"]
    assert note["invert_intensity"] is True and note["objects"] < note["background"] - 0.5
    assert net.task.invert_intensity is True  # (what the CLI and the GUI save)
    folder = save_model(result.net, tmp_path / "tuned", task=net.task)
    tuned = load_model(folder)
    assert tuned.task.invert_intensity is True
    image = blobs(dark=True, seed=1).image
    seen = network_inputs(tuned, image, tuned.task)
    assert np.abs(seen[0] - (1 - manual_normalised(image))).max() < 1e-6
    report(result, folder)
    assert "objects darker than background: the image is inverted for this model" \
        in capsys.readouterr().out


def test_bright_objects_leave_the_model_as_it_is():
    net = tiny_net()
    result = finetune(net, [blobs(dark=False)], FinetuneConfig(**QUICK))
    assert "intensity_polarity" not in result.extra
    assert net.task.invert_intensity is False and net.task == TaskSpec(extra=dict(BRIGHT))
    assert "invert_intensity" not in net.task.to_dict()


def test_a_flagged_model_keeps_its_flag_on_dark_objects_and_drops_it_on_bright_ones():
    dark_model = tiny_net(TaskSpec(invert_intensity=True, extra=dict(BRIGHT)))
    kept = finetune(dark_model, [blobs(dark=True)], FinetuneConfig(**QUICK))
    assert "intensity_polarity" not in kept.extra and dark_model.task.invert_intensity
    # Its card still says it (a second round on phase contrast said nothing of it).
    from unet_studio.models.training.lineage import lineage_metadata

    card = lineage_metadata(kept, name="rods-2", parent={"name": "rods-1"})["card"]
    assert ("- input intensities: objects darker than background: the image is inverted for "
            "this model, as for the model it was fine-tuned from") in card
    plain = finetune(tiny_net(), [blobs(dark=False)], FinetuneConfig(**QUICK))
    assert "input intensities" not in lineage_metadata(plain, name="nuclei-2")["card"]
    back = tiny_net(TaskSpec(invert_intensity=True, extra=dict(BRIGHT)))
    result = finetune(back, [blobs(dark=False)], FinetuneConfig(**QUICK))
    assert result.extra["intensity_polarity"]["invert_intensity"] is False
    assert back.task.invert_intensity is False


def test_a_model_that_records_no_polarity_is_never_flipped():
    """A model trained from scratch on dark objects (or imported, or fine-tuned before the
    record existed) learnt them on the image as it is: its next round on dark objects must
    not invert its input."""
    net = tiny_net(TaskSpec())
    result = finetune(net, [blobs(dark=True)], FinetuneConfig(**QUICK))
    assert "intensity_polarity" not in result.extra and net.task.invert_intensity is False


def test_the_bundled_default_records_bright_objects():
    from pathlib import Path

    import unet_studio

    default = load_model(Path(unet_studio.__file__).parent / "resources" / "models" / "default")
    assert default.task.extra.get("objects") == "bright" and not default.task.invert_intensity
