"""The Train panel's check that the reviewed labels are of the current model's kind (a
class map of its classes for a semantic model, objects for an instance model: see
``app.labels_kind``), made at the click, before anything is read or trained. No widgets.

The labels being corrected are refused (Segment refuses a run on them in the same words:
``segment_classes``); another project image of the other kind is left out with a line
saying why, as other images that cannot be used are (``training_data.project_examples``).
"""

from __future__ import annotations

from unet_studio.app.class_map import model_classes
from unet_studio.app.errors import UserError
from unet_studio.app.host import labels_layer_name
from unet_studio.app.labels_kind import kind_mismatch


def train_refusal(session) -> str | None:
    """Why Train cannot learn from the reviewed labels being corrected with the current
    model (their recorded kind is the other one), else None. For the panel's ready line."""
    host, model = session.host, session.model
    if model is None or host.current_labels() is None:
        return None
    if session.current_left_out() is not None:
        return None  # (taken out of the project: its labels are not learnt from at all)
    mismatch = kind_mismatch(getattr(host, "labels_classes", lambda: None)(), model_classes(model))
    if mismatch is None:
        return None
    regions = session.ensure_reviewed()
    if regions is None or not regions.any():
        return None  # (nothing of them would be learnt from)
    layer = labels_layer_name(host)
    return (mismatch.sentence(f"'{layer}'" if layer else "the labels", model.name,
                              held_note=" with reviewed corrections")
            + f". Choose {mismatch.wanted_model} in the Models panel, then Train")


def refuse_other_kind(session) -> None:
    """UserError (``train_refusal``'s reason) when the labels being corrected are not of
    the current model's kind."""
    reason = train_refusal(session)
    if reason is not None:
        raise UserError(reason)


def other_kind_images(session, skip: set[str]) -> tuple[set[str], list[str]]:
    """The ids of the project's reviewed images (but those in ``skip``) whose labels are
    recorded as the other kind than the current model's, and a line per image saying why
    it is left out."""
    project, model = session.project, session.model
    if project is None or model is None:
        return set(), []
    wanted = model_classes(model)
    ids, lines = set(), []
    for ref in project.images:
        mismatch = kind_mismatch(ref.classes, wanted)
        if ref.id in skip or mismatch is None:
            continue
        regions = project.reviewed(ref.id)
        if regions is not None and regions.any():
            ids.add(ref.id)
            lines.append(mismatch.sentence(f"{ref.name} is left out: its labels", model.name,
                                           verb="hold"))
    return ids, lines
