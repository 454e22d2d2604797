"""Do labels fit the kind of a model trained on them? A class map (a semantic model's
classes: value i is the i-th class, ``app.class_map``) and objects (an instance model's
ids) look alike to the engine, so a round learns from either without complaint: an objects
model fine-tuned on a class map learnt each class's connected pieces as objects (and was
"better"), a semantic model fine-tuned on objects learnt object ids as classes.

What the labels are is what was recorded on them (class names; () for objects; None when
nothing was recorded, and then nothing is refused here). Segment's refusal of a run of the
other kind (``app.qt.segment_classes``) names the two kinds in the same words; the Train
panel and ``unet-studio finetune`` use :class:`KindMismatch`. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass


def kind_text(names) -> str:
    """'a class map (background, mitochondria)' or 'objects'."""
    return f"a class map ({', '.join(names)})" if names else "objects"


@dataclass(frozen=True)
class KindMismatch:
    """Labels recorded as ``held`` (class values, () for objects) and a model whose labels
    are ``wanted`` (``class_map.model_classes``: its class values, () for objects)."""

    held: tuple[str, ...]
    wanted: tuple[str, ...]

    @property
    def damage(self) -> str:
        """What training would teach the model."""
        if not self.wanted:
            return "it would learn each class's pieces as objects"
        if not self.held:
            return "it would learn object ids as class values"
        return "it would learn another model's classes as its own"

    @property
    def wanted_model(self) -> str:
        """The model that fits the labels."""
        if self.held:
            return f"a semantic model of {', '.join(self.held)}"
        return "an objects (instance) model"

    def sentence(self, subject: str, model: str, *, verb: str = "holds", held_note: str = "") -> str:
        """"{subject} {verb} a class map (...){held_note}, and {model} outputs objects:
        training it on them would mix the two (it would learn ...)"."""
        return (f"{subject} {verb} {kind_text(self.held)}{held_note}, and {model} outputs "
                f"{kind_text(self.wanted)}: training it on them would mix the two "
                f"({self.damage})")


def kind_mismatch(held, wanted) -> KindMismatch | None:
    """The mismatch of labels recorded as ``held`` (None: nothing recorded, no check) with a
    model of ``wanted`` class values; None when they fit."""
    if held is None:
        return None
    held, wanted = tuple(str(name) for name in held), tuple(str(name) for name in wanted)
    return None if held == wanted else KindMismatch(held, wanted)
