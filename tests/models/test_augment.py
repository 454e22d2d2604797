"""Augmentation moves image, target and weights together; intensity changes touch the image."""

import numpy as np
import pytest
import torch
from scipy import ndimage as ndi

from unet_studio.models.training.augment import (
    augment_batch,
    elastic_deform,
    flip_and_rotate,
    gaussian_blur,
    intensity_jitter,
)
from unet_studio.models.training.config import AugmentConfig
from unet_studio.models.training.targets import IGNORE

GEOMETRY_ONLY = AugmentConfig(intensity_probability=0, noise_probability=0, blur_probability=0)


def _blobs(shape, seed=0):
    """Smooth random image (B, 1, *shape) and its threshold as target (B, *shape)."""
    rng = np.random.default_rng(seed)
    smooth = np.stack([ndi.gaussian_filter(rng.random(shape), 3) for _ in range(4)])
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    image = torch.from_numpy(smooth).float().unsqueeze(1)
    target = (image[:, 0] > 0.5).long()
    return image, target, torch.ones(target.shape) + target


def test_flips_and_turns_move_everything_together():
    image, target, weight = _blobs((32, 32))
    gen = torch.Generator().manual_seed(1)
    out_image, out_target, out_weight = flip_and_rotate((image, target, weight), 2, GEOMETRY_ONLY,
                                                        gen)
    assert torch.equal((out_image[:, 0] > 0.5).long(), out_target)
    assert torch.equal(out_weight, 1 + out_target.float())
    assert not torch.equal(out_image, image)  # something moved with this seed


def test_turns_skip_non_square_patches_and_work_in_3d():
    image, target, weight = _blobs((8, 16, 24))
    gen = torch.Generator().manual_seed(2)
    out = flip_and_rotate((image, target, weight), 3, GEOMETRY_ONLY, gen)
    assert out[0].shape == image.shape
    assert torch.equal((out[0][:, 0] > 0.5).long(), out[1])


def test_elastic_warp_keeps_image_and_target_aligned():
    image, target, weight = _blobs((48, 48))
    config = AugmentConfig(elastic_probability=1.0, elastic_sigma=4.0)
    gen = torch.Generator().manual_seed(3)
    warped, warped_target, warped_weight = elastic_deform(image, target, weight, config, gen)
    assert not torch.equal(warped, image)
    known = warped_target != IGNORE
    agree = ((warped[:, 0] > 0.5).long() == warped_target)[known].float().mean()
    assert agree > 0.97
    assert (warped_weight[~known] == 0).all()


def test_elastic_pulls_in_ignore_from_outside():
    image, target, weight = _blobs((32, 32))
    config = AugmentConfig(elastic_probability=1.0, elastic_sigma=12.0)
    _, warped_target, warped_weight = elastic_deform(image, target, weight, config,
                                                     torch.Generator().manual_seed(4))
    assert (warped_target == IGNORE).any()
    assert set(torch.unique(warped_target).tolist()) <= {IGNORE, 0, 1}
    assert (warped_weight[warped_target == IGNORE] == 0).all()


def test_blur_matches_scipy():
    rng = np.random.default_rng(5)
    image = rng.random((2, 1, 20, 20)).astype(np.float32)
    sigmas = torch.tensor([0.7, 1.5])
    ours = gaussian_blur(torch.from_numpy(image), sigmas, max_sigma=1.5).numpy()
    for b, sigma in enumerate(sigmas.tolist()):
        reference = ndi.gaussian_filter(image[b, 0], sigma, mode="nearest", truncate=4.5 / sigma)
        assert np.abs(ours[b, 0] - reference).max() < 1e-4


def test_intensity_changes_only_the_image_and_repeats_with_a_seed():
    image, target, weight = _blobs((32, 32))
    config = AugmentConfig(intensity_probability=1, noise_probability=1, blur_probability=1,
                           elastic_probability=0, flip=False, rotate90=False)
    first = augment_batch(image, target, weight, config, torch.Generator().manual_seed(6))
    second = augment_batch(image, target, weight, config, torch.Generator().manual_seed(6))
    assert torch.equal(first[0], second[0])
    assert torch.equal(first[1], target) and torch.equal(first[2], weight)
    assert (first[0] - image).abs().mean() > 0.01
    jittered = intensity_jitter(image, config, torch.Generator().manual_seed(7))
    assert torch.isfinite(jittered).all()


def test_augment_config_validates():
    with pytest.raises(ValueError, match="elastic_probability"):
        AugmentConfig(elastic_probability=1.5)
    with pytest.raises(ValueError, match="elastic_grid"):
        AugmentConfig(elastic_grid=1)


# ---- random zoom -------------------------------------------------------------------------

def _disc_volume(shape=(200, 200), radius=10, spacing=40, patch=(64, 64)):
    """Discs of ``radius`` on a grid: image = the objects (1 inside), instance targets."""
    from unet_studio.models.training.harvest import make_volume
    from unet_studio.models.training.targets import instance_targets

    grid = np.indices(shape)
    labels = np.zeros(shape, dtype=np.int32)
    for n, centre in enumerate(np.ndindex(*(s // spacing for s in shape)), start=1):
        position = [spacing // 2 + spacing * c for c in centre]
        distance = sum((g - p) ** 2 for g, p in zip(grid, position))
        labels[distance <= radius**2] = n
    target = instance_targets(labels, np.ones(shape, dtype=bool)).astype(np.int64)
    image = (labels > 0).astype(np.float32)[None]
    volume = make_volume(image, target, np.ones(shape, np.float32), np.zeros(shape, bool),
                         patch, np.random.default_rng(0))
    return volume, labels


def _zoom(volumes, centres, zooms, patch, thin_class=2):
    from unet_studio.models.training.zoom import source_windows, zoom_patches

    zooms = np.asarray(zooms, dtype=np.float32)
    *windows, offsets = source_windows(volumes, centres, zooms, patch)
    tensors = [torch.from_numpy(a) for a in (*windows, zooms, offsets)]
    return [t.numpy() for t in zoom_patches(*tensors, patch, thin_class=thin_class)]


def _inner_object_sizes(mask):
    """Pixel counts of the connected objects of ``mask`` that do not touch its border."""
    labels, count = ndi.label(mask)
    sizes = []
    for index, box in enumerate(ndi.find_objects(labels), start=1):
        if all(0 < s.start and s.stop < n for s, n in zip(box, mask.shape)):
            sizes.append(int((labels[box] == index).sum()))
    return sizes


@pytest.mark.parametrize("zoom", [0.5, 0.7, 1.5, 2.0])
def test_zoom_scales_object_sizes(zoom):
    volume, labels = _disc_volume()
    image, target, weight = _zoom([volume], [(100, 100)], [zoom], (64, 64))
    area = np.pi * 10**2  # ~317 pixels per disc at factor 1
    by_image = _inner_object_sizes(image[0, 0] > 0.5)
    by_target = _inner_object_sizes(target[0] > 0)  # foreground + boundary
    assert by_image and by_target
    assert np.median(by_image) == pytest.approx(area * zoom**2, rel=0.08)
    # Thin boundaries are kept when shrinking, at the cost of up to one pixel around objects.
    assert np.median(by_target) == pytest.approx(area * zoom**2, rel=0.12 if zoom > 1 else 0.25)
    assert (target != IGNORE).all() and (weight == 1).all()  # the footprint fits: no border


def test_zoom_one_is_the_plain_patch_and_real_pixels_match_scipy(test_data_dir):
    import tifffile

    from unet_studio.models.training.harvest import make_volume
    from unet_studio.models.training.targets import instance_targets

    frame = tifffile.imread(test_data_dir / "train_img.tif")[0].astype(np.float32)
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0].astype(np.int32)
    frame = (frame - frame.min()) / (frame.max() - frame.min())
    target = instance_targets(labels, np.ones(labels.shape, bool)).astype(np.int64)
    volume = make_volume(frame[None], target, np.ones(labels.shape, np.float32),
                         np.zeros(labels.shape, bool), (48, 48), np.random.default_rng(0))
    image, out_target, _ = _zoom([volume], [(80, 80)], [1.0], (48, 48))
    assert np.allclose(image[0, 0], frame[56:104, 56:104], atol=1e-5)  # unzoomed: same pixels
    assert np.array_equal(out_target[0], target[56:104, 56:104])
    for zoom in (0.6, 1.7):
        image, out_target, _ = _zoom([volume], [(80, 80)], [zoom], (48, 48), thin_class=None)
        steps = (np.arange(48) - 23.5) / zoom + 79.5  # pixel centres read in the source
        coords = np.stack(np.meshgrid(steps, steps, indexing="ij"))
        source = frame if zoom > 1 else ndi.gaussian_filter(frame, (1 / zoom - 1) / 2,
                                                            mode="nearest", truncate=4.5)
        expected = ndi.map_coordinates(source, coords, order=1)
        assert np.abs(image[0, 0] - expected).max() < 2e-3
        nearest = ndi.map_coordinates(target, coords, order=0)
        assert (out_target[0] == nearest).mean() > 0.99  # ties at .5 may round either way


def test_zoom_keeps_the_ignore_mask_aligned_with_the_labels():
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.training import FinetuneConfig, TrainingExample
    from unet_studio.models.training.harvest import PatchSampler, harvest
    from unet_studio.models.training.zoom import zoom_patches

    _, labels = _disc_volume(shape=(160, 160))
    reviewed = np.zeros(labels.shape, dtype=bool)
    reviewed[:, :70] = True
    reviewed[100:, 90:150] = True
    # The image shows the reviewed mask: after zooming, its bright part must be exactly the
    # known (not ignored) part of the targets, up to the linear interpolation at the edge.
    config = FinetuneConfig(max_steps=1, val_fraction=0.0, border_w0=0.0)
    data = harvest([TrainingExample(reviewed.astype(np.float32), labels, reviewed)],
                   spatial_dims=2, in_channels=1, task=TaskSpec(), config=config,
                   patch_shape=(48, 48), rng=np.random.default_rng(0))
    data.train[0].image[:] = reviewed  # undo the percentile normalisation: 0 or 1
    augment = AugmentConfig(zoom_probability=1.0, zoom_range=(0.5, 2.0))
    sampler = PatchSampler(data, (48, 48), replay_fraction=0, focus_changed=0,
                           rng=np.random.default_rng(3))
    batch = sampler.sample_zoomed(16, augment)
    assert 0.5 <= batch[3].min() < 0.9 and 1.2 < batch[3].max() <= 2.0
    image, target, weight = (t.numpy() for t in zoom_patches(
        *(torch.from_numpy(a) for a in batch), (48, 48), thin_class=2))
    known = target != IGNORE
    edge = (image[:, 0] > 0.02) & (image[:, 0] < 0.98)
    assert ((image[:, 0] > 0.5) == known)[~edge].all()
    assert (weight[~known] == 0).all() and (weight[known] > 0).all()
    assert known.reshape(16, -1).any(axis=1).all()  # every patch holds a reviewed pixel


def _interior_touches_background(target):
    """Is a foreground (1) pixel 4-adjacent to a background (0) one, with no boundary between?"""
    inside, outside = target == 1, target == 0
    return bool((inside[1:] & outside[:-1]).any() or (inside[:-1] & outside[1:]).any()
                or (inside[:, 1:] & outside[:, :-1]).any() or (inside[:, :-1] & outside[:, 1:]).any())


def test_shrinking_keeps_boundaries_closed_and_touching_objects_apart():
    from unet_studio.models.training.harvest import make_volume
    from unet_studio.models.training.targets import instance_targets

    labels = np.zeros((120, 120), dtype=np.int32)
    labels[30:90, 20:60], labels[30:90, 60:100] = 1, 2  # one shared edge
    target = instance_targets(labels, np.ones(labels.shape, bool)).astype(np.int64)
    volume = make_volume(labels[None].astype(np.float32), target, np.ones(labels.shape,
                         np.float32), np.zeros(labels.shape, bool), (32, 32),
                         np.random.default_rng(0))
    zooms = np.linspace(0.5, 0.95, 10)
    _, kept, _ = _zoom([volume] * 10, [(60, 60)] * 10, zooms, (32, 32), thin_class=2)
    _, plain, _ = _zoom([volume] * 10, [(60, 60)] * 10, zooms, (32, 32), thin_class=None)
    assert all(ndi.label(t == 1)[1] == 2 for t in kept)  # interiors stay two objects
    assert not any(_interior_touches_background(t) for t in kept)  # the 1-px ring is closed
    assert any(_interior_touches_background(t) for t in plain)  # nearest alone opens it
    for k, p in zip(kept, plain):  # the rule only turns pixels next to an edge into boundary
        promoted = k != p
        assert (k[promoted] == 2).all()
        assert not (promoted & ~ndi.binary_dilation((p == 2) | (p == 0))).any()


def test_a_shrunk_patch_wider_than_the_image_ignores_the_outside():
    volume, _ = _disc_volume(shape=(40, 40), radius=6, spacing=20, patch=(32, 32))
    image, target, weight = _zoom([volume], [(20, 20)], [0.5], (32, 32))
    known = target[0] != IGNORE
    rows, cols = np.nonzero(known)
    assert known.sum() == pytest.approx(20 * 20, rel=0.1)  # the 40x40 image at half size
    assert rows.min() >= 5 and rows.max() <= 26 and cols.min() >= 5 and cols.max() <= 26
    assert (weight[0][~known] == 0).all() and np.isfinite(image).all()


def test_zoom_in_3d_scales_volumes():
    from unet_studio.models.training.harvest import make_volume
    from unet_studio.models.training.targets import instance_targets

    grid = np.indices((48, 48, 48))
    labels = (sum((g - 24) ** 2 for g in grid) <= 8**2).astype(np.int32)
    target = instance_targets(labels, np.ones(labels.shape, bool)).astype(np.int64)
    volume = make_volume(labels[None].astype(np.float32), target,
                         np.ones(labels.shape, np.float32), np.zeros(labels.shape, bool),
                         (24, 24, 24), np.random.default_rng(0))
    image, out_target, _ = _zoom([volume] * 2, [(24, 24, 24)] * 2, [1.4, 0.7], (24, 24, 24))
    assert image.shape == (2, 1, 24, 24, 24) and out_target.shape == (2, 24, 24, 24)
    for sample, zoom in ((0, 1.4), (1, 0.7)):
        assert (image[sample, 0] > 0.5).sum() == pytest.approx(labels.sum() * zoom**3, rel=0.1)


def test_zoom_config_validates_and_round_trips():
    from unet_studio.models.training import FinetuneConfig

    with pytest.raises(ValueError, match="zoom_range"):
        AugmentConfig(zoom_range=(0.2, 2.0))
    with pytest.raises(ValueError, match="zoom_range"):
        AugmentConfig(zoom_range=(2.0, 1.0))
    with pytest.raises(ValueError, match="zoom_probability"):
        AugmentConfig(zoom_probability=2)
    assert not AugmentConfig().zooms and AugmentConfig(zoom_probability=0.5).zooms
    config = FinetuneConfig(augment=AugmentConfig(zoom_probability=0.5, zoom_range=[0.7, 1.5]))
    assert config.augment.zoom_range == (0.7, 1.5)
    assert FinetuneConfig.from_dict(config.to_dict()) == config
    # Settings added later are left out of the resume fingerprint at their old behaviour.
    assert "zoom_probability" not in FinetuneConfig().fingerprint()["augment"]
    assert config.fingerprint()["augment"]["zoom_range"] == [0.7, 1.5]


def test_zoom_in_1d():
    from unet_studio.models.training.harvest import make_volume
    from unet_studio.models.training.targets import instance_targets

    labels = np.zeros(200, dtype=np.int32)
    labels[90:110] = 1
    target = instance_targets(labels, np.ones(200, bool)).astype(np.int64)
    volume = make_volume(labels[None].astype(np.float32), target, np.ones(200, np.float32),
                         np.zeros(200, bool), (64,), np.random.default_rng(0))
    image, out_target, _ = _zoom([volume] * 2, [(100,)] * 2, [2.0, 0.5], (64,))
    assert (image[0, 0] > 0.5).sum() == 40 and (image[1, 0] > 0.5).sum() == 10
    assert (out_target[0] > 0).sum() == 40 and (out_target[1] == 2).sum() == 2
