"""What the labels of the session's project images are (a mixin of
:class:`~unet_studio.app.qt.session_project.ProjectLink`): a semantic model's classes or
objects (``app.class_map``), noted on the project image as the host records them and shown
so again when the project's labels come back.

Uses the session's ``host``, ``project`` and ``_project_for_current``.
"""

from __future__ import annotations

from unet_studio.app.project import Project


class ProjectLabelClasses:
    """Following what is recorded on the labels into the project, and back. GUI thread only."""

    # Is the host's "classes recorded on the labels" followed (:meth:`_follow_recorded_classes`),
    # and is it muted while a project's labels come back (the current model's guess is not
    # what the project recorded for them)?
    _classes_followed = False
    _restoring_classes = False

    def _follow_recorded_classes(self) -> None:
        """From the first project on, what is recorded on the labels (a semantic model's
        classes, or objects) is noted on their project image as well (once connected: the
        host's listeners live as long as the session)."""
        connect = getattr(self.host, "connect_labels_classes", None)
        if connect is not None and not self._classes_followed:
            self._classes_followed = True
            connect(self._labels_classes_recorded)

    def _labels_classes_recorded(self) -> None:
        if not self._restoring_classes and self.project is not None:
            project, image_id = self._project_for_current(create=False)
            if image_id is not None:
                self._note_classes(project, image_id)

    def _note_classes(self, project: Project, image_id: str) -> None:
        """The project image ``image_id`` (the current one) keeps what is recorded on its
        labels: their class names, or () for objects. A labels layer the user brought is
        not the image's labels (nor what the project saves): left out."""
        names = getattr(self.host, "labels_classes", lambda: None)()
        if names is not None and getattr(self.host, "labels_are_images_own", lambda: True)():
            project.set_image_classes(image_id, names)

    def _restore_classes(self, project: Project, image_id: str) -> None:
        """The labels just restored are what the project recorded for them (a class map of
        a model that need not be the current one, or objects), shown so; with nothing
        recorded (an earlier version's project) the current model's rule stands
        (``class_map.follow_model``), and what it settled is recorded from now on."""
        saved = project.image_classes(image_id)
        record = getattr(self.host, "record_labels_classes", None)
        if saved is not None and record is not None:
            record(saved)
        else:
            self._note_classes(project, image_id)
