"""Fine-tuning: training data from corrections, augmentation, losses, the training loop.

The public names are loaded on first use, so importing this package (to build a
``FinetuneConfig`` in a panel, say) does not import torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "AugmentConfig": "config",
    "FinetuneConfig": "config",
    "TrainingExample": "examples",
    "TrainProgress": "progress",
    "FinetuneResult": "progress",
    "iter_finetune": "loop",
    "finetune": "loop",
    "ReplayBuffer": "replay",
    "instance_targets": "targets",
    "border_weights": "targets",
    "load_weights": "checkpoint",
    "lineage_metadata": "lineage",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
