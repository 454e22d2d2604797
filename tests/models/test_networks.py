"""The network contract, run over every registered model, spatial dims and padding."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from unet_studio.models.registry import build_model, list_models, model_defaults

REQUIRED = {"unet", "residual_unet", "attention_unet", "unet_plus_plus", "resnet18_unet",
            "resnet34_unet", "resnet50_unet", "resnet101_unet", "resnet152_unet"}
CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def tiny_options(name: str, dims: int) -> dict:
    """Slim widths and few levels keep the whole matrix fast (ResNets keep all 4 stages)."""
    if "resnet" in name:
        return {"spatial_dims": dims, "base_channels": 2}
    return {"spatial_dims": dims, "base_channels": 4, "depth": 3 if dims < 3 else 2}


def contract_cases():
    for name in list_models():
        for dims in ((1, 2, 3) if name == "unet" else (2, 3)):
            for padding in ("same", "valid"):
                yield pytest.param(name, dims, padding, id=f"{name}-{dims}d-{padding}")


def first_conv(net: nn.Module) -> nn.Module:
    return next(m for m in net.modules() if isinstance(m, CONVS))


def test_registry_lists_the_required_models():
    assert REQUIRED <= set(list_models())


def test_unknown_model_and_option_say_what_is_allowed():
    with pytest.raises(ValueError, match="unet_plus_plus"):
        build_model("unet3000")
    with pytest.raises(ValueError, match="known options"):
        build_model("unet", widht=3)


@pytest.mark.slow
@pytest.mark.parametrize("name, dims, padding", list(contract_cases()))
def test_every_model_meets_the_contract(name, dims, padding):
    options = {**tiny_options(name, dims), "padding": padding}
    if "resnet" in name and padding == "valid":
        with pytest.raises(ValueError, match="padding='same'"):
            build_model(name, **options)
        return
    torch.manual_seed(0)
    net = build_model(name, **options)
    assert (net.name, net.spatial_dims, net.padding) == (name, dims, padding)
    assert len(net.size_divisor) == len(net.halo) == len(net.receptive_field) == dims
    assert all(h % d == 0 for h, d in zip(net.halo, net.size_divisor))

    odd = tuple(13 + 2 * axis for axis in range(dims))
    shape = net.valid_input_shape(odd)
    assert all(s >= o for s, o in zip(shape, odd))
    x = torch.randn(2, net.in_channels, *shape, requires_grad=True)
    y = net(x)
    assert tuple(y.shape) == (2, net.out_channels, *net.output_shape(shape))

    y.square().mean().backward()
    grad = first_conv(net).weight.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0

    bad = tuple(s + 1 for s in shape)
    with pytest.raises(ValueError) as error:
        net(torch.zeros(1, net.in_channels, *bad))
    assert str(net.valid_input_shape(bad)) in str(error.value)
    assert "Sizes of tensors" not in str(error.value)


def test_same_padding_keeps_size_and_valid_padding_gives_a_centred_crop():
    same = build_model("unet", base_channels=2, depth=2)
    assert same.output_shape((64, 48)) == (64, 48)
    valid = build_model("unet", base_channels=2, depth=2, padding="valid")
    shape = valid.valid_input_shape((61, 61))
    out = valid.output_shape(shape)
    assert all(i > o and (i - o) % 2 == 0 for i, o in zip(shape, out))


def test_the_2015_paper_geometry():
    net = build_model("unet", base_channels=64, depth=4, padding="valid", out_channels=2,
                      norm="none")
    assert net.output_shape((572, 572)) == (388, 388)
    assert net.valid_input_shape((570, 572)) == (572, 572)
    assert net.size_divisor == (16, 16)
    widths = [64, 128, 256, 512, 1024]
    encoder = (9 * 64 + 64) + (9 * 64 * 64 + 64) + sum(
        9 * c * w + w + 9 * w * w + w for c, w in zip(widths, widths[1:]))
    decoder = sum(4 * w * c + c + 9 * 2 * c * c + c + 9 * c * c + c
                  for c, w in zip(widths, widths[1:]))
    assert net.num_parameters() == encoder + decoder + 64 * 2 + 2 == 31_030_658


def test_too_small_inputs_name_the_smallest_valid_shape():
    net = build_model("unet", base_channels=2, depth=2, padding="valid")
    smallest = net.valid_input_shape((1, 1))
    with pytest.raises(ValueError, match=str(smallest).replace("(", r"\(").replace(")", r"\)")):
        net.output_shape((8, 8))


def test_wrong_channels_or_rank_are_value_errors():
    net = build_model("unet", base_channels=2, depth=2, in_channels=2)
    with pytest.raises(ValueError, match="2 input channel"):
        net(torch.zeros(1, 1, 16, 16))
    with pytest.raises(ValueError, match="spatial axes"):
        net(torch.zeros(1, 2, 16, 16, 16))


OPTION_SETS = [
    {"down": "conv", "up": "linear"},
    {"skip_compress": True, "skip_norm": True},
    {"attention": True, "up": "linear", "down": "conv"},
    {"decoder_block": "bottleneck", "bridge_residual_blocks": 2, "dropout": 0.4},
    {"residual": True, "decoder_block": "bottleneck", "skip_compress": True},
    {"norm": "none", "activation": "gelu"},
    {"norm": "group", "activation": "leaky_relu"},
    {"norm": "instance"},
]


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_every_option_combines_with_both_paddings(options, padding):
    for name in ("unet", "unet_plus_plus"):
        net = build_model(name, base_channels=4, depth=2, padding=padding, **options)
        shape = net.valid_input_shape((23, 30))
        y = net(torch.randn(2, 1, *shape))
        assert tuple(y.shape[2:]) == net.output_shape(shape)
        assert net.tile_exact == (net.config.norm in ("batch", "none"))


def test_seed_note_options_change_the_network():
    plain = build_model("unet", base_channels=8, depth=2)
    compressed = build_model("unet", base_channels=8, depth=2, skip_compress=True)
    bottleneck = build_model("unet", base_channels=8, depth=2, decoder_block="bottleneck")
    assert bottleneck.num_parameters() < plain.num_parameters()
    assert compressed.num_parameters() != plain.num_parameters()


@pytest.mark.parametrize("name", ["unet", "attention_unet", "resnet18_unet"])
def test_deep_supervision_returns_aux_outputs_in_train_mode_only(name):
    net = build_model(name, base_channels=4, depth=3 if name != "resnet18_unet" else 4,
                      deep_supervision=True)
    x = torch.randn(2, 1, 64, 64)
    outputs = net.train()(x)
    main, *aux = outputs
    assert main.shape == (2, 3, 64, 64)
    strides = [64 // a.shape[-1] for a in aux]
    assert strides == [2**k for k in range(1, len(aux) + 1)]  # high resolution first
    # Every decoder level but the last: strides 2, 4 (depth 3), 2 … 16 for the ResNet.
    assert len(aux) == (4 if "resnet" in name else 2)
    assert net.eval()(x).shape == main.shape


def test_unet_plus_plus_deep_supervision_is_full_resolution():
    net = build_model("unet_plus_plus", base_channels=4, depth=3, deep_supervision=True)
    main, *aux = net.train()(torch.randn(2, 1, 32, 32))
    assert len(aux) == 2 and all(a.shape == main.shape for a in aux)


@pytest.mark.parametrize("name", ["unet", "residual_unet", "resnet50_unet", "unet_plus_plus"])
def test_config_round_trips_through_build_model(name):
    net = build_model(name, base_channels=4, depth=2, attention=True, dropout=0.3)
    again = build_model(net.name, **net.config.to_dict())
    assert again.config == net.config
    assert again.num_parameters() == net.num_parameters()
    assert model_defaults(name)["spatial_dims"] == 2


@pytest.mark.parametrize("bad, message", [
    ({"padding": "full"}, "padding must be one of"),
    ({"norm": "layer"}, "norm must be one of"),
    ({"activation": "tanh"}, "activation must be one of"),
    ({"spatial_dims": 4}, "spatial_dims must be 1, 2 or 3"),
    ({"depth": 0}, "depth must be 1 to"),
    ({"dropout": 1.0}, "dropout must be in"),
    ({"base_channels": 2.5}, "base_channels must be an integer"),
    ({"skip_norm": True, "norm": "none"}, "skip_norm"),
    ({"residual": "yes"}, "residual must be true or false"),
])
def test_bad_configs_say_what_is_allowed(bad, message):
    with pytest.raises(ValueError, match=message):
        build_model("unet", **bad)


def test_resnet_models_refuse_maxpool_and_too_deep():
    with pytest.raises(ValueError, match="down must be 'conv'"):
        build_model("resnet18_unet", down="maxpool")
    with pytest.raises(ValueError, match="depth must be 1 to 4"):
        build_model("resnet18_unet", depth=5)


def test_flops_and_parameters_are_reported():
    net = build_model("unet", base_channels=32, depth=4)
    # Issue 3: about 0.37 MFLOP per output pixel for a base-32 2D U-Net.
    assert math.isclose(net.flops_per_pixel(), 367_360, rel_tol=1e-6)
    assert net.num_parameters() == sum(p.numel() for p in net.parameters()) > 7_000_000


def test_feature_shapes_per_level():
    net = build_model("unet", base_channels=8, depth=2, padding="valid")
    shape = net.valid_input_shape((100, 100))
    rows = net.feature_shapes(shape)
    assert [r[:2] for r in rows] == [("encoder", 8), ("encoder", 16), ("encoder", 32),
                                     ("decoder", 16), ("decoder", 8)]
    assert rows[0][2] == (shape[0] - 4,) * 2  # two unpadded 3x3 convs
    assert rows[-1][2] == net.output_shape(shape)  # the 1x1 head keeps the size
