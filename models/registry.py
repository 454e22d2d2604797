"""Models by stable name: ``build_model(name, **config)``, ``list_models()``, ``register_model``.

A registered name is a factory plus default options; ``residual_unet`` is the U-Net with
``residual=True``, ``resnet50_unet`` the U-Net with a ResNet-50 encoder, and so on. Every
registered model is built, listed and tested the same way. Importing this module imports
no torch; the network classes load when a model is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .config import ModelConfig


@dataclass(frozen=True)
class ModelEntry:
    factory: Callable  # (name, ModelConfig) -> torch.nn.Module
    defaults: dict = field(default_factory=dict)
    description: str = ""


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, factory: Callable, *, defaults: dict | None = None,
                   description: str = "", replace: bool = False) -> None:
    """Registers ``factory(name, config) -> nn.Module`` under ``name``.

    ``defaults`` override :class:`ModelConfig`'s defaults for this name (checked now).
    """
    if name in _REGISTRY and not replace:
        raise ValueError(f"a model named {name!r} is already registered")
    defaults = dict(defaults or {})
    ModelConfig.from_dict(defaults)  # fail at registration, not at first use
    _REGISTRY[name] = ModelEntry(factory, defaults, description)


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def model_defaults(name: str) -> dict:
    """The full option dict ``build_model(name)`` uses when given no options."""
    return ModelConfig.from_dict(_entry(name).defaults).to_dict()


def model_description(name: str) -> str:
    return _entry(name).description


def _entry(name: str) -> ModelEntry:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    return _REGISTRY[name]


def build_model(name: str, **options):
    """A fresh network ``name`` with ``options`` over that model's defaults.

    The returned module has ``.name`` and ``.config`` (a :class:`ModelConfig`).
    """
    entry = _entry(name)
    config = ModelConfig.from_dict({**entry.defaults, **options})
    return entry.factory(name, config)


def _unet(name: str, config: ModelConfig):
    from .unet import UNet

    return UNet(name, config)


def _unet_plus_plus(name: str, config: ModelConfig):
    from .unet_plus_plus import UNetPlusPlus

    return UNetPlusPlus(name, config)


def _register_builtin_models() -> None:
    register_model("unet", _unet, description="Classic U-Net (Ronneberger et al. 2015)")
    register_model("residual_unet", _unet, defaults={"residual": True},
                   description="U-Net with residual blocks (identity shortcuts)")
    register_model("attention_unet", _unet, defaults={"attention": True},
                   description="U-Net with attention gates on the skips (Oktay et al. 2018)")
    register_model("unet_plus_plus", _unet_plus_plus,
                   description="U-Net++: nested dense skips (Zhou et al. 2018)")
    for depth in (18, 34, 50, 101, 152):
        register_model(
            f"resnet{depth}_unet", _unet,
            defaults={"encoder": f"resnet{depth}", "base_channels": 64, "down": "conv"},
            description=f"U-Net decoder on a ResNet-{depth} encoder",
        )


_register_builtin_models()
