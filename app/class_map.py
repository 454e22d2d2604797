"""Class maps: labels whose pixel values are classes (a semantic model's output), not objects.

Value ``i`` of a class map is the ``i``-th class name (0: the first, usually background), so
the object tools (delete, merge, split, add, fill holes, renumber, tracks) would damage it:
"delete object 1" removed every class-1 pixel of the frame. One rule says whether the labels
being corrected are a class map, and of which classes (:func:`labels_classes`):

1. what is recorded on the labels layer (``host.labels_classes()``): the class names a
   semantic model's Segment run wrote there, or () when an instance model's run did;
2. else, the labels are the image's own (made by the app for it) and the current model is
   semantic: a project reopened with its semantic model, labels restored from disk.

Qt-free and napari-free: the host records and shows (colours, names in the status bar).
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.errors import UserError
from unet_studio.app.host import labels_layer_name

# The class map's metadata key on a labels layer: its class names ([] for objects).
CLASS_NAMES_KEY = "unet_studio_class_names"
# Fixed, distinct colours per class value 1, 2, ... (0 is transparent); they repeat after.
# None near the reviewed overlay's green (plugins.napari_tool_layers.overlay_colormap): class 3
# is a yellow-green, its bright green read as reviewed pixels.
CLASS_COLOURS = ((1.0, 0.50, 0.05), (0.12, 0.56, 1.0), (0.55, 0.75, 0.0), (0.89, 0.10, 0.85),
                 (1.0, 0.90, 0.10), (0.60, 0.35, 0.95), (0.0, 0.85, 0.85), (0.90, 0.15, 0.15),
                 (0.55, 0.35, 0.20), (0.95, 0.55, 0.75))  # fmt: skip
# Labels up to this many pixels are checked to hold class values only before rule 2 calls
# them a class map (a bigger stack is trusted: a pass over it would freeze the window).
CHECKED_PIXELS = 1 << 26
REFUSAL = "{layer} is a class map ({classes}): {what} is for objects, paint with a class instead"


def class_values(names) -> tuple[str, ...]:
    """What each value of a class map of a model with classes ``names`` means: the names
    themselves; a one-class model (a sigmoid mask) paints 0 = background, 1 = its class."""
    names = tuple(str(name) for name in names)
    return ("background", *names) if len(names) == 1 else names


def model_classes(model) -> tuple[str, ...]:
    """The class values of ``model`` (a ModelInfo, a network, or a task: TaskSpec or its
    config dict) when it is semantic; () for an instance model or none."""
    task = model if isinstance(model, dict) or hasattr(model, "kind") else getattr(model, "task", None)
    kind = task.get("kind") if isinstance(task, dict) else getattr(task, "kind", None)
    if kind != "semantic":
        return ()
    names = task.get("class_names") if isinstance(task, dict) else task.class_names
    return class_values(names or ())


def labels_classes(session) -> tuple[str, ...]:
    """The class values of the labels being corrected when they are a class map, else ()
    (objects, or no labels). See the module's rule."""
    host = session.host
    labels = host.current_labels()
    if labels is None:
        return ()
    recorded = getattr(host, "labels_classes", lambda: None)()
    if recorded is not None:
        return tuple(recorded)
    if not getattr(host, "labels_are_images_own", lambda: True)():
        return ()  # (a layer the user brought: objects unless a run recorded classes)
    return model_classes(session.model)


def follow_model(session) -> tuple[str, ...]:
    """Rule 2 settled once for the image's own labels with nothing recorded, while a
    semantic model is current: its classes recorded on them (shown in class colours from
    then on) when their values are classes of it, else () recorded (objects: instance
    labels kept while a semantic model is chosen). Returns the labels' class values."""
    host = session.host
    record = getattr(host, "record_labels_classes", None)
    labels = host.current_labels()
    if record is None or labels is None or host.labels_classes() is not None:
        return labels_classes(session)
    # (a layer not the image's own is left unrecorded: a user's, or ours being added)
    names = labels_classes(session)
    if not model_classes(session.model) or not getattr(host, "labels_are_images_own",
                                                       lambda: True)():  # fmt: skip
        return names
    names = settled_classes(labels, session.model) if names else ()
    record(names)
    return names


def settled_classes(labels, model) -> tuple[str, ...]:
    """What rule 2 makes of ``labels`` (the image's own) with ``model`` current: its class
    values when it is semantic and they hold class values only, else () (objects)."""
    names = model_classes(model)
    return names if names and holds_classes_only(labels, len(names)) else ()


def holds_classes_only(labels, count: int) -> bool:
    """Do ``labels`` hold values 0..count-1 only? (True for stacks too big to check.)"""
    if not isinstance(labels, np.ndarray) or isinstance(labels, np.memmap) \
            or labels.size > CHECKED_PIXELS:
        return True
    return labels.size == 0 or (int(labels.min()) >= 0 and int(labels.max()) < count)


def class_text(names, value: int) -> str:
    """'membrane (2)', or 'label 5 (no class)'."""
    return f"{names[value]} ({value})" if 0 <= value < len(names) else f"label {value} (no class)"


def refuse_on_class_map(session, what: str) -> None:
    """Raise a UserError saying why ``what`` (an object tool) is not for the labels being
    corrected when they are a class map; nothing otherwise."""
    names = labels_classes(session)
    if names:
        raise UserError(refusal(session, names, what))


def refusal(session, names, what: str) -> str:
    layer = labels_layer_name(session.host)
    return REFUSAL.format(layer=f"'{layer}'" if layer else "the labels",
                          classes=", ".join(names), what=what)


def class_colour(value: int) -> tuple[float, float, float, float]:
    """The RGBA colour of class ``value`` (0: transparent)."""
    if value <= 0:
        return (0.0, 0.0, 0.0, 0.0)
    return (*CLASS_COLOURS[(value - 1) % len(CLASS_COLOURS)], 1.0)
