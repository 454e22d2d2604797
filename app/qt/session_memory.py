"""The work of every image kept only in memory while no project can hold it (a mixin of
:class:`~unet_studio.app.qt.session.StudioSession`, through ``AutosaveProject``).

Where no autosave project can be started (a read-only or full user folder), each image's
labels and reviewed marks live only in the viewer and the session. The work carried into
a project made later (the close question's "Save project…", Correct > New project…) was
the current image's alone (``WorkCarry._work_to_carry``): a user who segmented and
corrected two images lost the first one's work. So the labels and marks of each image
worked on are noted here as they change (``AutosaveProject`` calls :meth:`note_work_in_memory`
at each edit or labels shown, and the ``reviewed_changed`` signal at each mark), and
:meth:`_work_to_carry` hands every image's work to the project opened next.

Uses the session's ``host``, ``project``, ``reviewed``, ``_reviewed_key``,
``_autosave_refused``, ``_show_marks``, ``reviewed_changed`` and ``image_renamed``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from unet_studio.app.layer_channel import file_channel
from unet_studio.app.qt.session_carry import CarriedWork, WorkCarry
from unet_studio.app.reviewed import ReviewedRegions


@dataclass
class InMemoryWork:
    """An image's labels (``labels()``: None once nothing holds them, their layer closed)
    and their reviewed marks (None: none noted yet)."""

    labels: Callable[[], np.ndarray | None]
    regions: ReviewedRegions | None


class WorkInMemory(WorkCarry):
    """Noting each image's work while it is only in memory. GUI thread only."""

    _work_in_memory: dict[str, InMemoryWork] | None = None  # by image name

    def note_work_in_memory(self) -> None:
        """Note the current image's labels and marks, while no project holds them (the
        autosave refused). Cheap: called at every edit and every change of the marks."""
        if self.project is not None or self._autosave_refused is None:
            return
        image, labels = self.host.current_image(), self.host.current_labels()
        if image is None or labels is None:
            return
        kept = self._kept_in_memory()
        regions = self.reviewed if self._reviewed_key == id(labels) else None
        before = kept.get(image.name)
        earlier = before.regions if before is not None and before.labels() is labels else None
        for name in [name for name, work in kept.items() if work.labels() is labels]:
            del kept[name]  # (a labels layer the user brought, edited for another image first)
        kept[image.name] = InMemoryWork(_weak(labels), earlier if regions is None else regions)
        if _mark_again(earlier, regions):
            self._show_marks()  # (after noting: this tells ``reviewed_changed`` again)

    def forget_work_in_memory(self) -> None:
        """A project holds the work now (opened or started): nothing is noted any more."""
        if self._work_in_memory:
            self._work_in_memory.clear()

    def _work_to_carry(self) -> dict[str, CarriedWork]:
        """``WorkCarry._work_to_carry`` (the current image's work), and, without a project,
        that of every other open image noted in memory: each goes into the project opened
        next as a project image of its own, with its labels and marks."""
        work = super()._work_to_carry()
        if self.project is not None or not self._work_in_memory:
            return work
        carried = [one.labels for one in work.values()]
        for name, kept in list(self._work_in_memory.items()):
            labels = kept.labels()
            image = self.host.image_named(name) if hasattr(self.host, "image_named") else None
            if labels is None or image is None:  # (its labels or its image closed since)
                del self._work_in_memory[name]
                continue
            if name in work or any(labels is other for other in carried):
                continue  # (the current image's: WorkCarry has it, marks shown included)
            work[name] = self._carried_from_memory(name, image, labels, kept.regions)
        return work

    def _carried_from_memory(self, name: str, image, labels: np.ndarray,
                             regions: ReviewedRegions | None) -> CarriedWork:
        """What ``_carry_open_images`` adds to a new project for the open image ``name``
        (a HostImage), as ``_project_for_current`` adds the current one: its file, axes,
        labels shape and scale, and which channel of its file it shows."""
        source = getattr(self.host, "image_source", lambda name=None: None)(name) or ""
        details = dict(shape=tuple(labels.shape), scale=image.scale)
        channel = file_channel(image, source) if source and "C" not in image.axes else None
        if channel is not None:
            details["selection"] = {"C": channel}
        return CarriedWork(labels, regions, source, image.axes, details)

    def _kept_in_memory(self) -> dict[str, InMemoryWork]:
        """The notes, made on first use, following renamed images from then on."""
        if self._work_in_memory is None:
            self._work_in_memory = {}
            self.reviewed_changed.connect(self.note_work_in_memory)  # (a mark, not an edit)
            self.image_renamed.connect(self._rename_in_memory)
        return self._work_in_memory

    def _rename_in_memory(self, old: str, new: str) -> None:
        kept = self._work_in_memory
        if kept and old in kept and new not in kept:
            kept[new] = kept.pop(old)


def _mark_again(before: ReviewedRegions | None, now: ReviewedRegions | None) -> bool:
    """Mark again in ``now`` what ``before`` marked, both the marks of the same labels;
    True when there was something to mark. Without a project, coming back to an image
    starts its marks afresh (``StudioSession.ensure_reviewed`` has nowhere to read them
    from): the user's earlier marks would be lost, on screen and in the project made later."""
    if now is None or before is None or before is now or before.shape != now.shape:
        return False
    if not before.any():
        return False
    now.mark_mask(before.mask)
    return True


def _weak(labels: np.ndarray) -> Callable[[], np.ndarray | None]:
    """A reference that does not keep closed labels (a whole stack) alive."""
    try:
        return weakref.ref(labels)
    except TypeError:  # (an array type without weak references: kept while noted)
        return lambda: labels
