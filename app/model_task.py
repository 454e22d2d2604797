"""What a model puts out, as the user chooses and reads it: objects (instance labels) or
classes (a semantic class map). One rule for the class names a user types, shared by the
Models panel's network builder and ``unet-studio finetune --classes``, and one wording of a
model's outputs for its card. No Qt here.

A class map's value ``i`` is the ``i``-th name, so the first name is what 0 means: the
background (pixels left unlabelled are 0 too).
"""

from __future__ import annotations

from collections.abc import Sequence

from unet_studio.app.errors import UserError

INSTANCE_TEXT = "objects (instance labels)"
CLASSES_EXAMPLE = "background, mitochondria, membrane"
BACKGROUND = "background"


def parse_class_names(text: str | Sequence[str]) -> tuple[str, ...]:
    """The class names of ``text`` ("background, mito, membrane", or the names already
    split), blanks around them removed; UserError saying what is wrong: fewer than 2 names,
    an empty one (",,"), one given twice (in any case), or "background" not first."""
    names = text.split(",") if isinstance(text, str) else list(text)
    names = [str(name).strip() for name in names]
    if len(names) < 2 or not all(names):
        problem = "an empty name" if len(names) >= 2 else "fewer than 2 names"
        raise UserError(f"{problem} in {_shown(text)}: give at least 2 class names separated "
                        f"by commas, background first (e.g. {CLASSES_EXAMPLE})")
    seen: dict[str, str] = {}
    for name in names:
        if name.casefold() in seen:
            raise UserError(f"the class {name!r} is named twice in {_shown(text)}: each class "
                            "is one output of the network, give each name once")
        seen[name.casefold()] = name
    if BACKGROUND in seen and names[0].casefold() != BACKGROUND:
        raise UserError(f"{seen[BACKGROUND]!r} is not first in {_shown(text)}: the first class "
                        "is label 0, the background (and every unlabelled pixel); put it first")
    return tuple(names)


def _shown(text) -> str:
    return repr(text if isinstance(text, str) else ",".join(map(str, text)))


def semantic_task(class_names: Sequence[str], spatial_dims: int):
    """The TaskSpec of a network putting out one channel per class (softmax) for a
    ``spatial_dims``-D input."""
    from unet_studio.models.task import TaskSpec

    return TaskSpec(kind="semantic", class_names=tuple(class_names),
                    spatial_axes="ZYX"[-int(spatial_dims):])


INVERTED_TEXT = "inverted (objects darker than background, as in phase contrast)"


def inverts_input(task) -> bool:
    """Does a model with ``task`` (a TaskSpec, its dict from config.json, or None) invert its
    input image (``TaskSpec.invert_intensity``)?"""
    value = task.get("invert_intensity") if isinstance(task, dict) else getattr(task, "invert_intensity", False)
    return value is True


def outputs_text(task, out_channels: int | None = None) -> str:
    """What a model with ``task`` (a TaskSpec, its dict from config.json, or None/{} for an
    old config without one: then what loading assumes for ``out_channels``) puts out:
    "objects (instance labels)", "classes: background, mitochondria, membrane"."""
    kind, names = _kind_and_names(task, out_channels)
    if kind == "instance":
        return INSTANCE_TEXT
    if len(names) == 1:
        return f"a mask: {names[0]}"
    return "classes: " + ", ".join(names)


def _kind_and_names(task, out_channels: int | None) -> tuple[str, tuple[str, ...]]:
    if isinstance(task, dict) and task:
        names = tuple(str(name) for name in task.get("class_names") or ())
        return str(task.get("kind", "instance")), names
    if task is not None and not isinstance(task, dict):
        return task.kind, tuple(task.class_names)
    # (no task saved: load_model's default_task, 3 outputs being objects)
    if out_channels in (None, 3):
        return "instance", ()
    return "semantic", tuple(f"class_{i}" for i in range(int(out_channels)))


def check_same_classes(task, class_names: Sequence[str], model: str) -> None:
    """Fine-tuning ``model`` (whose ``task`` is a TaskSpec or None) on class maps of
    ``class_names``: refused, saying what the model puts out, unless it has those classes in
    that order (label 0 must mean the same class to the model and to the data)."""
    kind, names = _kind_and_names(task, None if task is not None else 3)
    if kind == "semantic" and tuple(names) == tuple(class_names):
        return
    wanted = ", ".join(class_names)
    if kind == "instance":
        raise UserError(f"--classes {wanted}: {model} segments objects (instance labels), not "
                        "classes; train a new network with --new --classes, or leave --classes "
                        "out to fine-tune it on instance labels")
    raise UserError(f"--classes {wanted}: {model} has the classes {', '.join(names)}; give "
                    "those, in that order (or leave --classes out), or train a new network "
                    "with --new --classes")
