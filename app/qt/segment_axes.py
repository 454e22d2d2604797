"""The Segment panel's Axes box (a mixin of SegmentPanel): the note under it, and the axes
typed there becoming the image's own (``app.typed_axes``).

When: at Run, once the run's axes are checked against the image and the model. Not while
typing (every letter, or a focus leaving a half-typed box, would relabel the layer, its
sliders and the project), nor when the edit is finished: the labels on screen were made
under the old axes (a ZYX volume's 3D objects are no time points), and a Run is when the
user commits to the new reading, so the labels it makes, the layer and the project agree
from the first moment. Axes recorded in the project are taken again when it is reopened.

Expects the panel's ``session``, ``axes_edit``, ``axes_note``, ``image_combo``, ``worker``,
``_job_image``, ``_typed_axes`` (image name -> the axes typed for it) and ``_say_ready``
(``SegmentChoices``: the status line and Run follow the axes typed).
"""

from __future__ import annotations

from unet_studio.app.qt.segment_tips import axes_guess_note
from unet_studio.app.typed_axes import kept_axes_note, record_image_axes, relabels


class SegmentAxes:
    """The Axes box's note, and typed or recorded axes taken by the image layer."""

    _typed_axes: dict[str, str]

    def _say_axes(self, image, typed: str | None) -> None:
        """The note under the box: typed axes the layer cannot take, else guessed axes."""
        if typed:
            self._say_axes_kept(image, typed)
        else:
            self._say_axes_guessed(image)

    def _say_axes_guessed(self, image) -> None:
        """Say so next to the axes when they were guessed, as the CLI does: a plain
        multi-page TIFF of a time-lapse (or a script's 3D array) would otherwise be
        segmented as one volume."""
        from unet_studio.app.axes_guess import axes_guess

        guess = axes_guess(self.session.host, image) if image is not None else None
        self._set_axes_note(axes_guess_note(guess, image.axes if image is not None else ""))

    def _say_axes_kept(self, image, typed: str) -> None:
        """Typed axes that would rearrange the pixels: the layer keeps its own (said)."""
        self._set_axes_note("" if image is None else kept_axes_note(image.axes, typed))

    def _axes_edited(self, text: str) -> None:
        """The user types the axes: they are no longer a guess, and stay the image's."""
        name = self.image_combo.currentText()
        if name:
            self._typed_axes[name] = text.strip()
        self._say_axes_kept(self.session.host.current_image(), text.strip())
        self._say_ready()  # (the model may need an axis these lack: Run greyed, said why)

    def _hide_axes_note(self) -> None:
        self._set_axes_note("")

    def _set_axes_note(self, note: str) -> None:
        self.axes_note.setText(note)
        self.axes_note.setVisible(bool(note))

    def _adopt_typed_axes(self, image, typed: str | None) -> None:
        """At Run (the axes checked): axes typed that rename the image's become its own, in
        its layer, its labels and the project; others are the run's only, and said so."""
        host = self.session.host
        typed = (typed or "").upper()
        if not typed or not hasattr(host, "set_image_axes"):
            return
        if not relabels(image.axes, typed):
            note = kept_axes_note(image.axes, typed)
            if note:
                host.notify(note, "warning")
            return
        host.set_image_axes(image.name, typed)
        self._typed_axes.pop(image.name, None)  # (the layer carries them now)
        project = self.session.project
        if project is not None:  # (a project made later records the layer's axes, these)
            record_image_axes(project, image.name, _source(host, image.name), typed)
        self.axes_edit.setText(typed)
        self._hide_axes_note()

    def _adopt_recorded_axes(self, names: list[str] | None = None) -> bool:
        """The project's axes for the open images ``names`` (None: all) whose layer opened
        with guessed axes that the recorded ones rename (typed at an earlier Run); a layer
        naming its own axes keeps them. True when one changed."""
        from unet_studio.app.axes_guess import axes_guess

        host, project = self.session.host, self.session.project
        if project is None or not hasattr(host, "set_image_axes") or not hasattr(host, "image_names"):
            return False
        changed = False
        for name in host.image_names() if names is None else names:
            image = host.image_named(name)
            if image is None or (self.worker is not None and name == self._job_image):
                continue
            ref = project.find_image(name, _source(host, name))
            if ref is not None and relabels(image.axes, ref.axes) and axes_guess(host, image):
                host.set_image_axes(name, ref.axes)
                changed = True
        return changed

    def _project_opened(self) -> None:
        if self._adopt_recorded_axes() and self.worker is None:
            self._image_chosen()  # (the box and the note follow the layer's new axes)


def _source(host, name: str) -> str | None:
    source_of = getattr(host, "image_source", None)
    return source_of(name) if source_of is not None else None
