"""The work on the open images that goes along when a
:class:`~unet_studio.app.qt.session.StudioSession` opens another project (a mixin of it).

The labels of an open image stay on screen when a project is opened or created that does
not hold the image, and are saved into it (at once for a new project, at the image's first
edit for an existing one). Their reviewed and changed marks, the image's chosen channel and
the marks an undo may take back go with them: only reviewed pixels are training data, so
labels without them would be work lost (kept only in the folder left).

Uses the session's ``host``, ``project``, ``reviewed``, ``_reviewed_key``, ``_marks``,
``_unmarked``, ``_carried``, ``_ref_of_open_image`` and ``_project_for_current``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from unet_studio.app.project import Project
from unet_studio.app.reviewed import ReviewedRegions


@dataclass
class CarriedWork:
    """An open image's work, from the project left: its live ``labels`` and their reviewed
    ``regions`` (None: none known), its file ``source`` (absolute; "" when none) and what
    the project left knew of it (``axes``: None when it was in none)."""

    labels: np.ndarray
    regions: ReviewedRegions | None
    source: str = ""
    axes: str | None = None
    details: dict = field(default_factory=dict)  # (selection, shape, dtype, scale)


@dataclass
class ShownMarks:
    """The current labels and their marks, with the marks of the edits an undo may still
    take back (``session_edits``), before the project they belong to closes."""

    labels: np.ndarray
    regions: ReviewedRegions
    marks: list
    unmarked: list


class WorkCarry:
    """Carrying the open images' work into the project opened next. GUI thread only."""

    def _work_to_carry(self) -> dict[str, CarriedWork]:
        """The work of the open images, by image name, to carry into the next project: the
        current image's labels and marks (also without a project), and every open image's
        live labels in the project open now. Work carried before and not yet saved anywhere
        stays carried."""
        work = dict(self._carried)
        project = self.project
        if project is not None and hasattr(self.host, "image_names"):
            for name in self.host.image_names():
                ref = self._ref_of_open_image(name)
                labels = None if ref is None else project.live_labels(ref.id)
                if labels is not None:
                    path = str(project.resolve_image_path(ref.id)) if ref.path else ""
                    details = dict(selection=ref.selection, shape=ref.shape,
                                   dtype=ref.dtype, scale=ref.scale)  # fmt: skip
                    work[ref.name] = CarriedWork(labels, project.reviewed(ref.id), path,
                                                 ref.axes, details)  # fmt: skip
        image, labels = self.host.current_image(), self.host.current_labels()
        if image is not None and labels is not None:
            before = work.get(image.name)
            source = getattr(self.host, "image_source", lambda: None)() or ""
            regions = self.reviewed if self._reviewed_key == id(labels) else None
            if before is None:
                work[image.name] = CarriedWork(labels, regions, source)
            elif before.labels is not labels:  # (a labels layer the user brought)
                work[image.name] = CarriedWork(labels, regions, source or before.source,
                                               before.axes, before.details)  # fmt: skip
            elif regions is not None:  # (the marks shown: those of the labels shown)
                before.regions = regions
        return work

    def _shown_marks(self) -> ShownMarks | None:
        """The current labels' marks (None when there are none)."""
        labels = self.host.current_labels()
        if labels is None or self.reviewed is None or self._reviewed_key != id(labels):
            return None
        return ShownMarks(labels, self.reviewed, list(self._marks), list(self._unmarked))

    def _keep_shown_marks(self, shown: ShownMarks | None) -> None:
        """The project opened does not hold the current image, whose labels stay on screen:
        so do their marks, counted and shown as before, and an undo of an edit made before
        still takes back the marks it made."""
        if shown is None or self.host.current_labels() is not shown.labels:
            return
        if self._project_for_current(create=False)[1] is not None:
            return  # (the project holds the image: its own marks are the ones to show)
        self.reviewed, self._reviewed_key = shown.regions, id(shown.labels)
        self._marks.extend(entry for entry in shown.marks if entry[0] is shown.regions)
        self._unmarked.extend(entry for entry in shown.unmarked if entry[0] is shown.regions)

    def _carry_open_images(self, project: Project) -> None:
        """Save the carried work into ``project`` now (a new project: the work open is what
        it is made for), the current image first."""
        image, labels = self.host.current_image(), self.host.current_labels()
        work = None if image is None else self._carried.get(image.name)
        if work is not None and work.labels is labels:  # (its labels on screen)
            self._project_for_current(create=True)  # (adds it: see _bring_carried)
        for name, work in list(self._carried.items()):
            if work.axes is None or project.find_image(name, work.source) is not None:
                continue  # (the current image, or one without a project image to copy)
            ref = project.add_image(work.source, axes=work.axes, name=name, **work.details)
            project.attach_labels(ref.id, work.labels, save=True)
            self._bring_carried(project, ref.id, name, work.labels)

    def _bring_carried(self, project: Project, image_id: str, name: str,
                       labels: np.ndarray) -> None:
        """``labels`` were just attached to the project as the image ``image_id``'s, new in
        it: their marks (the session's, or carried from the project left) and the image's
        chosen channel go with them."""
        work = self._carried.pop(name, None)
        if work is not None and work.details.get("selection"):
            project.set_selection(image_id, **work.details["selection"])
        regions = self.reviewed if self._reviewed_key == id(labels) else None
        if regions is None and work is not None and work.labels is labels:
            regions = work.regions  # (not when other labels replaced them since)
        if regions is not None and regions.shape == labels.shape:
            project.adopt_reviewed(image_id, regions)
