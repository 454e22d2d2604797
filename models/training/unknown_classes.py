"""Reviewed pixels of a class map that hold no class of the semantic model being trained.

A stray id in a class map (one pixel of 3 in a 3-class map, left by a "New label id" press)
used to stop the whole round. A microscopist would rather keep the round: a few such pixels
are left out of training (as if not reviewed) and the round says where they are, so that
they can be painted with a class or erased. Where they are a large share of the reviewed
pixels the labels are not this model's class map at all (instance labels, say): training on
the rest would learn from a misleading remainder, so the round is refused, saying the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from unet_studio.models.training.targets import unknown_class_mask

log = logging.getLogger(__name__)

# Above this share of an example's reviewed pixels, unknown labels refuse the round.
MAX_UNKNOWN_SHARE = 0.1


@dataclass
class _Found:
    """Unknown labels of one example: their count, values and first position in the image."""

    count: int = 0
    reviewed: int = 0
    values: set = field(default_factory=set)
    first: tuple[int, ...] | None = None


class UnknownClassError(ValueError):
    """Most of an example's reviewed labels are no class of the model."""


def position_text(position: tuple[int, ...], axes: str) -> str:
    """"t=0, y=5, x=7" (axes known), else "index (0, 5, 7)"."""
    if len(axes) == len(position):
        return ", ".join(f"{a.lower()}={p}" for a, p in zip(axes, position))
    return f"index {tuple(int(p) for p in position)}"


def classes_text(class_names) -> str:
    """"0 background, 1 mitochondria, 2 membrane"."""
    return ", ".join(f"{i} {name}" for i, name in enumerate(class_names))


def _find(slabs, examples, num_classes: int) -> dict[int, _Found]:
    found: dict[int, _Found] = {}
    for slab in slabs:
        index, lead = slab.origin[0], slab.origin[1:]
        entry = found.setdefault(index, _Found())
        entry.reviewed += int(slab.reviewed.sum())
        bad = unknown_class_mask(slab.labels, slab.reviewed, num_classes=num_classes)
        if not bad.any():
            continue
        entry.count += int(bad.sum())
        entry.values.update(np.unique(slab.labels[bad])[:10].tolist())
        if entry.first is None:
            local = (*lead, *np.argwhere(bad)[0].tolist())
            offset = examples[index].offset or (0,) * len(local)
            entry.first = tuple(int(o + p) for o, p in zip(offset, local))
    return {i: e for i, e in found.items() if e.count}


def _note(example, found: _Found, class_names, index: int) -> str:
    values = sorted(found.values)
    shown = ", ".join(str(v) for v in values[:5]) + (", …" if len(values) > 5 else "")
    pixels = f"{found.count} reviewed pixel" + ("s hold" if found.count != 1 else " holds")
    label = "labels" if len(values) > 1 else "label"
    return (f"{example.name or f'example {index}'}: {pixels} {label} {shown} (first at "
            f"{position_text(found.first, example.axes)}), no class of this model "
            f"({classes_text(class_names)})")


def check_unknown_classes(slabs, examples, task) -> tuple[int, list[str]]:
    """(pixels left out, one note per example) for a semantic ``task``'s reviewed labels
    outside its classes; logs each note as a warning. UnknownClassError when they are more
    than ``MAX_UNKNOWN_SHARE`` of an example's reviewed pixels."""
    if task.kind != "semantic" or task.out_channels == 1:  # (binary: any id > 0 is the class)
        return 0, []
    total, notes = 0, []
    for index, entry in _find(slabs, examples, task.out_channels).items():
        note = _note(examples[index], entry, task.class_names, index)
        if entry.count > MAX_UNKNOWN_SHARE * entry.reviewed:
            raise UnknownClassError(
                f"Cannot train: {note}. These labels do not look like this model's class map "
                "(instance labels?): paint those pixels with a class or erase them, then "
                "train again.")
        total += entry.count
        them = "them" if entry.count > 1 else "it"
        notes.append(f"{note}: left out of training; paint {them} with a class or erase {them}")
        log.warning("%s", notes[-1])
    return total, notes
