"""Harvesting training patches from reviewed regions; validation split; replay buffer."""

import numpy as np
import pytest
import tifffile
import torch

from unet_studio.models.task import TaskSpec
from unet_studio.models.training import FinetuneConfig, ReplayBuffer, TrainingExample
from unet_studio.models.training.harvest import PatchSampler, harvest
from unet_studio.models.training.losses import weighted_ce_dice
from unet_studio.models.training.targets import IGNORE

TASK = TaskSpec()


@pytest.fixture(scope="module")
def frame(test_data_dir):
    image = tifffile.imread(test_data_dir / "train_img.tif")[0]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0].astype(np.int32)
    return image, labels


def _harvest(examples, config, patch=(64, 64), replay=(), seed=0):
    return harvest(examples, spatial_dims=len(patch), in_channels=1, task=TASK, config=config,
                   patch_shape=patch, rng=np.random.default_rng(seed), replay=replay)


def _sampler(data, config, patch=(64, 64), seed=1):
    return PatchSampler(data, patch, replay_fraction=config.replay_fraction,
                        focus_changed=config.focus_changed, rng=np.random.default_rng(seed))


def test_loss_ignores_the_labels_of_unreviewed_pixels(frame):
    image, labels = frame
    reviewed = np.zeros(labels.shape, dtype=bool)
    reviewed[:, :90] = True
    config = FinetuneConfig(max_steps=1)
    scrambled = labels.copy()
    rng = np.random.default_rng(0)
    scrambled[~reviewed] = rng.permutation(labels[~reviewed])  # other objects, other places
    scrambled[100:140, 120:150] = 77
    net = torch.nn.Conv2d(1, 3, 5, padding=2)
    losses = []
    for lab in (labels, scrambled):
        data = _harvest([TrainingExample(image, lab, reviewed)], config)
        batch = _sampler(data, config).sample(6)
        with torch.no_grad():
            logits = net(torch.from_numpy(batch[0]))
        losses.append(float(weighted_ce_dice(logits, torch.from_numpy(batch[1]),
                                             torch.from_numpy(batch[2]))))
        assert batch[1][batch[2] == 0].size > 0  # unreviewed context is present...
    assert losses[0] == losses[1]  # ...but its labels changed nothing
    assert np.isfinite(losses[0])


def test_unreviewed_pixels_are_ignored_and_changed_ones_weigh_more(frame):
    image, labels = frame
    reviewed = np.zeros(labels.shape, dtype=bool)
    reviewed[20:120, 20:120] = True
    changed = np.zeros(labels.shape, dtype=bool)
    changed[50:60, 50:60] = True
    config = FinetuneConfig(max_steps=1, val_fraction=0.0, changed_weight=4.0, border_w0=0.0)
    data = _harvest([TrainingExample(image, labels, reviewed, changed)], config)
    (volume,) = data.train
    assert (volume.target[~reviewed] == IGNORE).all()
    assert (volume.target[reviewed] != IGNORE).all()
    assert (volume.weight[changed] == 4.0).all()
    assert (volume.weight[reviewed & ~changed] == 1.0).all()
    assert (volume.weight[~reviewed] == 0).all()
    assert data.summary["changed_pixels"] == 100
    # Patches always contain a reviewed pixel; with focus_changed=1 a changed one.
    sampler = PatchSampler(data, (32, 32), replay_fraction=0, focus_changed=1.0,
                           rng=np.random.default_rng(0))
    _, targets, weights = sampler.sample(8)
    assert ((weights == 4.0).reshape(8, -1).any(axis=1)).all()
    assert (targets != IGNORE).reshape(8, -1).any(axis=1).all()


def test_validation_blocks_are_held_out(frame):
    image, labels = frame
    config = FinetuneConfig(max_steps=1, val_fraction=0.2)
    data = _harvest([TrainingExample(image, labels)], config)
    assert data.val and data.summary["val_pixels"] > 0
    fraction = data.summary["val_pixels"] / data.summary["reviewed_pixels"]
    assert 0.1 <= fraction <= 0.4
    held = data.summary["reviewed_pixels"] - data.summary["train_pixels"]
    assert held == data.summary["val_pixels"]
    for crop in data.val:
        assert (crop.target[~crop.region] == IGNORE).all()
        assert (crop.labels[~crop.region] == 0).all()


def test_a_tiny_reviewed_region_holds_nothing_out(frame):
    """A few reviewed voxels spread over blocks of a 3D stack: held out, they would give a
    verdict from a handful of voxels; they all train instead."""
    image, labels = frame
    stack, stack_labels = np.stack([image[:64, :64]] * 8), np.stack([labels[:64, :64]] * 8)
    reviewed = np.zeros(stack.shape, dtype=bool)
    reviewed[2:5, 30:34, 30:34] = True  # 48 voxels around the middle of the blocks' grid
    data = _harvest([TrainingExample(stack, stack_labels, reviewed)],
                    FinetuneConfig(max_steps=1, val_fraction=0.5), patch=(8, 16, 16))
    assert not data.val and data.summary["val_pixels"] == 0
    assert data.summary["train_pixels"] == 48


def test_stack_slices_for_2d_and_3d_patches_for_3d(frame):
    image, labels = frame
    stack = np.stack([image[:48, :48]] * 5)
    stack_labels = np.stack([labels[:48, :48]] * 5)
    reviewed = np.zeros(stack.shape, dtype=bool)
    reviewed[[1, 3]] = True  # two reviewed slices
    config = FinetuneConfig(max_steps=1, val_fraction=0.0)
    example = TrainingExample(stack, stack_labels, reviewed)
    flat = _harvest([example], config, patch=(32, 32))
    assert flat.summary["slabs"] == 2 and len(flat.train) == 2
    volumetric = _harvest([example], config, patch=(8, 32, 32))
    images, targets, _ = _sampler(volumetric, config, patch=(8, 32, 32)).sample(3)
    assert images.shape == (3, 1, 8, 32, 32) and targets.shape == (3, 8, 32, 32)
    assert (targets != IGNORE).any() and (targets == IGNORE).any()


def test_small_images_are_padded_to_the_patch(frame):
    image, labels = frame
    config = FinetuneConfig(max_steps=1, val_fraction=0.0)
    data = _harvest([TrainingExample(image[:20, :30], labels[:20, :30])], config)
    images, targets, weights = _sampler(data, config).sample(2)
    assert images.shape == (2, 1, 64, 64)
    assert (targets[:, 20:] == IGNORE).all() and (weights[:, :, 30:] == 0).all()


def test_replay_examples_are_mixed_in(frame, tmp_path):
    image, labels = frame
    buffer = ReplayBuffer(margin=4)
    reviewed = np.zeros(labels.shape, dtype=bool)
    reviewed[100:140, 100:150] = True
    buffer.add([TrainingExample(image, labels, reviewed, name="round 1")])
    assert buffer.examples[0].labels.shape == (48, 58)
    buffer.save(tmp_path)
    loaded = ReplayBuffer.load(tmp_path)
    assert len(loaded) == 1 and loaded.examples[0].name == "round 1"
    assert np.array_equal(loaded.examples[0].labels, buffer.examples[0].labels)
    config = FinetuneConfig(max_steps=1, val_fraction=0.0, replay_fraction=0.9)
    now = TrainingExample(image[:40, :40], labels[:40, :40])
    data = _harvest([now], config, patch=(32, 32), replay=loaded.examples)
    assert len(data.replay) == 1 and data.summary["replay_examples"] == 1
    sampler = _sampler(data, config, patch=(32, 32))
    picks = [sampler._pick_volume() is data.replay[0] for _ in range(200)]
    assert 0.8 < np.mean(picks) < 0.97


def test_replay_buffer_drops_the_oldest_over_budget(frame):
    image, labels = frame
    buffer = ReplayBuffer(max_pixels=2 * 160 * 160)
    for name in "abc":
        buffer.add([TrainingExample(image, labels, name=name)])
    assert [e.name for e in buffer.examples] == ["b", "c"]


def test_examples_are_validated(frame):
    image, labels = frame
    with pytest.raises(ValueError, match="integer"):
        TrainingExample(image, labels.astype(float))
    with pytest.raises(ValueError, match="shape"):
        TrainingExample(image, labels[:10])
    with pytest.raises(ValueError, match="no reviewed"):
        _harvest([TrainingExample(image, labels, np.zeros(labels.shape, bool))],
                 FinetuneConfig(max_steps=1))


@pytest.mark.parametrize("fraction", [0.05, 0.15, 0.3])
def test_the_held_out_share_is_close_to_the_request(frame, fraction):
    image, labels = frame
    stack = np.stack([np.roll(image, 13 * z, axis=1) for z in range(24)])  # 24 slices
    stack_labels = np.stack([np.roll(labels, 13 * z, axis=1) for z in range(24)])
    reviewed = np.ones(stack.shape, dtype=bool)
    reviewed[:, :, 120:] = False  # three quarters of every slice reviewed
    config = FinetuneConfig(max_steps=1, val_fraction=fraction)
    data = _harvest([TrainingExample(stack, stack_labels, reviewed)], config, patch=(64, 64))
    summary = data.summary
    share = summary["val_pixels"] / summary["reviewed_pixels"]
    assert share == pytest.approx(fraction, rel=0.1)
    assert summary["reviewed_pixels"] - summary["train_pixels"] == summary["val_pixels"]
    assert len({crop.image.shape for crop in data.val}) == 1  # one shape: evaluated together


def test_held_out_pixels_are_capped(frame, monkeypatch):
    from unet_studio.models.training import harvest as harvest_module

    image, labels = frame
    monkeypatch.setattr(harvest_module, "MAX_VAL_PIXELS", 3000)
    data = _harvest([TrainingExample(image, labels)], FinetuneConfig(max_steps=1,
                                                                     val_fraction=0.5),
                    patch=(32, 32))
    assert 2000 <= data.summary["val_pixels"] <= 4000


def test_crops_evaluated_together_score_as_one_by_one(frame):
    from unet_studio.models.registry import build_model
    from unet_studio.models.training.validate import evaluate

    image, labels = frame
    config = FinetuneConfig(max_steps=1, val_fraction=0.3)
    data = _harvest([TrainingExample(image, labels)], config, patch=(32, 32))
    assert len(data.val) >= 4
    torch.manual_seed(0)
    net = build_model("unet", base_channels=4, depth=2)
    cpu = torch.device("cpu")
    together = evaluate(net, data.val, task=TASK, dice_weight=1.0, device=cpu)
    alone = [evaluate(net, [crop], task=TASK, dice_weight=1.0, device=cpu) for crop in data.val]
    assert together["val_loss"] == pytest.approx(np.mean([a["val_loss"] for a in alone]),
                                                 rel=1e-5)
    assert together["n_true"] == sum(a["n_true"] for a in alone)
    assert together["n_pred"] == sum(a["n_pred"] for a in alone)


@pytest.fixture(scope="module")
def one_nucleus(frame):
    """The HeLa frame with a single labelled nucleus: sparse objects in a large field, like a
    microcolony in a phase-contrast field or a few organelles (every pixel reviewed)."""
    image, labels = frame
    ids, sizes = np.unique(labels[labels > 0], return_counts=True)
    keep = ids[np.argsort(sizes)[len(sizes) // 2]]  # a typical nucleus
    return image, np.where(labels == keep, 1, 0).astype(np.int32)


def test_validation_leaves_clustered_objects_to_training(one_nucleus):
    image, labels = one_nucleus
    config = FinetuneConfig(max_steps=1, val_fraction=0.15)
    held_out = []
    for seed in range(30):
        data = _harvest([TrainingExample(image, labels)], config, patch=(48, 48), seed=seed)
        objects = sum(int((crop.labels > 0).sum()) for crop in data.val)
        held_out.append(objects / (labels > 0).sum())
        assert data.summary["val_pixels"] > 0  # background blocks are still held out
        (volume,) = data.train
        assert volume.object_centers.size > 0  # the nucleus stays in training
    assert max(held_out) <= 0.5


def test_object_focus_puts_objects_in_the_patches(one_nucleus):
    image, labels = one_nucleus
    config = FinetuneConfig(max_steps=1, val_fraction=0.0)
    data = _harvest([TrainingExample(image, labels)], config, patch=(32, 32))
    with_objects = {}
    for focus in (0.0, 1.0):
        sampler = PatchSampler(data, (32, 32), replay_fraction=0, focus_changed=0,
                               focus_objects=focus, rng=np.random.default_rng(0))
        _, targets, _ = sampler.sample(64)
        with_objects[focus] = float(np.mean((targets > 0).reshape(64, -1).any(axis=1)))
    assert with_objects[1.0] == 1.0
    assert with_objects[0.0] < 0.5  # uniform centres mostly miss a sparse object


class _ReadLog:
    """An array-like that records the pixels each read returns (a lazy stack's stand-in)."""

    def __init__(self, data):
        self.data, self.reads = data, []
        self.shape, self.dtype, self.ndim = data.shape, data.dtype, data.ndim

    def __getitem__(self, index):
        block = self.data[index]
        self.reads.append(block.size)
        return block


def test_an_example_cut_from_a_stack_reads_its_reviewed_box_and_keeps_the_stacks_contrast(frame):
    """Slices 2-3 of a (Z, C, Y, X) stack reviewed in a small window: only that box (plus
    context on Y and X) is read whole, channels go first, and the slabs are normalised with
    the whole stack's percentiles: a dim crop is not stretched to full contrast."""
    from unet_studio.models.normalize import percentile_range
    from unet_studio.models.training.examples import example_from_image, iter_slabs

    image, labels = frame
    stack = np.stack([np.stack([image, image // 2])] * 6).astype(np.uint16)  # (Z, C, Y, X)
    stack[:, :, 80:160, 90:160] //= 8  # the reviewed window is dim
    stack_labels = np.stack([labels] * 6)
    reviewed = np.zeros(stack_labels.shape, dtype=bool)
    reviewed[2:4, 100:140, 110:150] = True
    source = _ReadLog(stack)
    example = example_from_image(source, stack_labels, reviewed, channel_axis=1, name="z",
                                 lower=1.0, upper=99.8, margin=(0, 8, 8))  # fmt: skip
    assert example.image.shape == (2, 2, 56, 56) and example.labels.shape == (2, 56, 56)
    np.testing.assert_array_equal(np.moveaxis(example.image, 0, 1), stack[2:4, :, 92:148, 102:158])
    np.testing.assert_array_equal(example.labels, stack_labels[2:4, 92:148, 102:158])
    # Two reads: the percentiles' pass (one block: the stack is small), then the box.
    assert len(source.reads) == 2 and source.reads[1] == example.image.size
    low, high = percentile_range(stack, 1.0, 99.8, channel_axis=1)
    np.testing.assert_allclose(example.intensity.low, low)
    np.testing.assert_allclose(example.intensity.high, high)
    slab = next(iter_slabs([example], spatial_dims=2, in_channels=2, lower=1.0, upper=99.8))
    expected = (stack[2, :, 92:148, 102:158] - low[:, None, None]) / (high - low)[:, None, None]
    np.testing.assert_allclose(slab.image, expected, rtol=1e-5, atol=1e-6)
    assert slab.image.max() < 0.5  # the crop's own percentiles would have stretched it to 1
    # Asked for other percentiles, the example falls back to its own (nothing else known).
    other = next(iter_slabs([example], spatial_dims=2, in_channels=2, lower=0.0, upper=100.0))
    assert other.image.max() == pytest.approx(1.0)


def test_replay_keeps_the_source_contrast_and_the_newest_corrections_of_an_image(frame, tmp_path):
    from unet_studio.models.training.examples import example_from_image

    image, labels = frame
    reviewed = np.zeros(labels.shape, dtype=bool)
    reviewed[10:30, 10:30] = True
    first = example_from_image(image, labels, reviewed, name="a", lower=1.0, upper=99.8)
    newer = example_from_image(image, labels + 1, reviewed, name="a", lower=1.0, upper=99.8)
    buffer = ReplayBuffer(margin=4)
    buffer.add([first, TrainingExample(image, labels, name="b")])
    buffer.add([newer])  # the same image corrected again replaces its older example
    assert [e.name for e in buffer.examples] == ["b", "a"]
    assert buffer.examples[1].labels.min() >= 1
    buffer.save(tmp_path)
    loaded = ReplayBuffer.load(tmp_path).examples
    assert loaded[0].intensity is None
    assert (loaded[1].intensity.lower, loaded[1].intensity.upper) == (1.0, 99.8)
    np.testing.assert_array_equal(loaded[1].intensity.low, first.intensity.low)
    np.testing.assert_array_equal(loaded[1].intensity.high, first.intensity.high)


def test_held_out_blocks_skip_the_thin_edge_of_a_reviewed_region():
    """A region corrected in full plus the 2-row margin an edit marks beyond it: the
    held-out blocks come from the corrected part, never from blocks holding only the margin
    (scored there, a random network's one big blob looked perfect: F1 1.000)."""
    from types import SimpleNamespace

    from unet_studio.models.training.harvest import choose_val_blocks

    reviewed = np.zeros((8, 256, 256), bool)
    reviewed[:, :128] = True  # the corrected half, every plane
    reviewed[:, 128:130] = True  # the edit's margin, on untouched prediction
    labels = np.zeros(reviewed.shape, np.int32)
    labels[:, 20:60, 30:90] = 1
    labels[:, 80:125, 150:200] = 2
    labels[:, 128:256] = 3  # the untouched prediction: one blob everywhere
    slab = SimpleNamespace(reviewed=reviewed, labels=labels)
    block = (8, 32, 32)
    for seed in range(10):
        picked = choose_val_blocks([slab], block, 0.2, np.random.default_rng(seed))
        assert picked
        assert all(box[1].stop <= 128 for _, box in picked), picked
    # Reviewed slices through 3D blocks (every block thin): they still give a held-out set.
    sparse = np.zeros((32, 128, 128), bool)
    sparse[::8] = True
    thin = SimpleNamespace(reviewed=sparse, labels=np.zeros(sparse.shape, np.int32))
    assert choose_val_blocks([thin], (16, 32, 32), 0.2, np.random.default_rng(0))
