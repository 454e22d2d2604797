"""The project of a :class:`~unet_studio.app.qt.session.StudioSession` (a mixin of it):
opening one (its images opened from their files, the current image's corrections restored,
what could not be restored told), the project image of the current image, image renames,
closing. The autosave project: ``session_autosave``; the classes its labels are:
``session_project_classes``.

Uses the session's ``host``, ``library``, ``project``, ``image_id``, ``reviewed``,
``labels_changes``, ``_fresh_ids``, ``_refresh_overlay``, ``reviewed_changed``,
``_marks``, ``_unmarked``, ``_later``, ``_carried``, ``set_model``, ``show_labels``,
``project_changed``, ``image_renamed`` and the ``session_carry`` methods.
"""

from __future__ import annotations

import logging
from pathlib import Path

from unet_studio.app.errors import UserError
from unet_studio.app.layer_channel import note_file_channel
from unet_studio.app.project import Project
from unet_studio.app.project_images import SERIES_KEY
from unet_studio.app.qt.alive import alive
from unet_studio.app.qt.session_autosave import AutosaveProject, same_folder
from unet_studio.app.qt.session_carry_history import CarriedHistory
from unet_studio.app.qt.session_edits import SHOW_MARKS
from unet_studio.app.qt.session_project_classes import ProjectLabelClasses
from unet_studio.app.qt.session_project_images import ProjectImageChanges
from unet_studio.app.qt.session_save_elsewhere import SaveElsewhere
from unet_studio.app.qt.staged_models import StagedModels

log = logging.getLogger(__name__)


class ProjectLink(ProjectImageChanges, AutosaveProject, ProjectLabelClasses, SaveElsewhere):
    """Opening, following and closing the session's project (the autosave project:
    ``session_autosave``; its images removed or located: ``session_project_images``; the
    classes its labels are: ``session_project_classes``; saved into a new project, its
    models copied off the GUI thread: ``session_save_elsewhere``).
    GUI thread only."""

    def open_project(self, path: str | Path, *, create: bool = False,
                     staged: StagedModels | None = None) -> Project:
        """Open (or create) a project and restore the current image's labels from it. The
        project open now stays open when the new one cannot be opened. The open images it
        does not hold keep their labels on screen, and those go into it with their marks
        (``session_carry``): at once into a new project, at their first edit otherwise.
        ``staged``: the models of the project open, already copied for the new one
        (``save_project_elsewhere``); otherwise a new project copies them here."""
        carried, shown = self._work_to_carry(), self._shown_marks()  # (before it closes)
        # (a new project made from the one open takes its history and models along)
        history = CarriedHistory.of(self.project) if create else None
        project = self._replace_project(Path(path), create)
        self.project = project
        self._follow_recorded_classes()
        self._autosave_refused = None  # (a project the user chose: closed, autosave may try again)
        self._forget_regions()
        # (listed first: the project's current model is often a round accepted into it)
        self.library.folders["project"] = project.models_dir
        # (the copy of the model in use: made current once the work is carried, below)
        model_copy = None if history is None else self._take_models_along(history, project, staged)
        if project.current_model:
            try:  # (that very model: in a copy of the project, its ref may name another one)
                self.set_model(self.library.find(project.current_model,
                                                 project.current_model_identity))
            except UserError as error:
                self.host.notify(f"project model not available: {error}", "warning")
        elif create and model_copy is None:  # (its copy is recorded as it is used: below)
            self._record_model()  # (a new project starts with the model in use, for its reopening)
        self._open_project_images(project)
        self._carried = {name: work for name, work in carried.items()
                         if project.find_image(name, work.source) is None}  # fmt: skip
        if not self.restore_from_project():
            self._keep_shown_marks(shown)
        if create:
            self._carry_open_images(project)
        if model_copy is not None:
            # Only now: the panels told of a new model read the labels' reviewed marks, and
            # before the work was carried that made empty ones, kept in place of the marks
            # carried (QA: New project… of a project with a model lost every mark).
            self._use_model_copy(model_copy)
        if history is not None:  # (after its own entries: see ``session_carry_history``)
            history.log_into(project)
        self.project_changed.emit()
        self.reviewed_changed.emit()  # (the marks counted are the ones now shown)
        return project

    def _take_models_along(self, history: CarriedHistory, project: Project,
                           staged: StagedModels | None = None) -> Path | None:
        """Copy the models of the project left into the new ``project`` (or move in their
        ``staged`` copies); returns the copy of the current model when it is one of them:
        the model to use from now on (the folder left may go away)."""
        if staged is not None and staged.source == history.models_dir:
            history.take_staged(staged, project)
        else:
            history.copy_models(project)
        for problem in history.problems:
            self.host.notify(problem, "warning")
        return None if self.model is None else history.copy_of(self.model.path)

    def _use_model_copy(self, copy: Path) -> None:
        try:
            self.set_model(self.library.get(str(copy)))
        except UserError as error:
            self.host.notify(f"project model not available: {error}", "warning")

    def _replace_project(self, path: Path, create: bool) -> Project:
        """The project at ``path``, the one open closed. Opened first (a failure keeps the
        one open), except the folder open now: closed first, as the new opening would find
        its lock held (by the old one: read-only) and the old would release it after; a
        failure then opens it again."""
        old = self.project
        if old is None or not same_folder(old.path, path):
            project = Project.create(path) if create else Project.open(path)
            self._close_project()  # (open_project tells once the new one is open)
            return project
        self._close_project()
        try:
            return Project.create(path) if create else Project.open(path)
        except Exception:
            self._forget_regions()  # (the reopened project reads them again)
            try:
                self.project = Project.open(old.path)
            except Exception:  # (the original error is the one to tell)
                log.exception("could not open %s again", old.path)
            raise

    def _forget_regions(self) -> None:
        """Drop the reviewed regions of the project closed (the next one has its own)."""
        self.image_id = None
        self.reviewed = None
        # The marks of edits made before belong to the regions just dropped: an undo can no
        # longer take them back (it compares regions), and they would keep those regions'
        # stack-sized masks alive for up to MARKS_KEPT more edits.
        self._marks.clear()
        self._unmarked.clear()

    def _open_project_images(self, project: Project) -> None:
        """Open the project's images that are not open yet, from their files, so that opening
        a project brings the work back (each image's corrections return when it becomes
        current); a warning names any image whose file cannot be found. An image open under
        another name (its file opened before the project, the project having renamed it) is
        that image: it takes the project's name instead of being opened twice."""
        opener = getattr(self.host, "open_image_file", None)
        if opener is None or not hasattr(self.host, "image_names"):
            return
        open_refs = {ref.id for ref in map(self._ref_of_open_image, self.host.image_names()) if ref}
        self._adopt_renamed_images(project, open_refs)
        for ref in project.images:
            if ref.id in open_refs:
                continue
            path = project.resolve_image_path(ref.id) if ref.path else None
            if path is None or not path.exists():
                where = (f"its file {path} is missing. If it was moved or renamed, point the "
                         "project at it: Correct panel > Locate… (its corrections are kept)"
                         if path else "it has no file (open it yourself)")
                self.host.notify(f"project image {ref.name} not opened: {where}", "warning")
                continue
            try:  # (series: an image of a multi-series file that is not its first)
                opener(path, name=ref.name, **({"series": ref.series} if ref.series else {}))
            except (UserError, OSError, ValueError) as error:
                self.host.notify(f"project image {ref.name} not opened: {error}", "warning")

    def _adopt_renamed_images(self, project: Project, open_refs: set[str]) -> None:
        """Rename an open image layer that stands for no project image to the project's name
        for the image from its file, where that pairing is certain: one such layer from the
        file, one project image from it not open yet, and its name free (the channels of one
        file, split into layers, are never guessed). Adds the adopted ids to ``open_refs``."""
        rename = getattr(self.host, "rename_image", None)
        source_of = getattr(self.host, "image_source", None)
        if rename is None or source_of is None:
            return
        loose = {name: source_of(name) for name in self.host.image_names()
                 if self._ref_of_open_image(name) is None}
        for ref in project.images:
            if ref.id in open_refs or not ref.path or ref.name in self.host.image_names():
                continue
            layers = [name for name, source in loose.items() if source
                      and project.same_file(ref, source) and self._series_of(name) == ref.series]
            if len(layers) != 1:
                continue
            rivals = [other for other in project.images if other.id not in open_refs
                      and other.path and project.same_file(other, loose[layers[0]])
                      and other.series == ref.series]
            if len(rivals) == 1:
                rename(layers[0], ref.name)
                open_refs.add(ref.id)
                del loose[layers[0]]

    def restore_from_project(self) -> bool:
        """Show the project's saved labels and reviewed regions for the current image."""
        project, image_id = self._project_for_current(create=False)
        try:
            if image_id is None or self._old_shape_set_aside(project, image_id):
                return False
            labels = project.labels(image_id)
            if labels is None:
                return False
            # Not saved again (save=False): they are what the project holds. Saving them
            # queued a write of every chunk, a whole stack's labels, that closing the window
            # then waited for (5-12 s for 1.5 Gpx, nothing changed).
            self._restoring_classes = True  # (the current model's guess is not what was saved)
            try:
                live = self.show_labels(labels, protect=False, save=False,
                                        reviewed=project.reviewed(image_id, labels.shape))
            finally:
                self._restoring_classes = False
            project.attach_labels(image_id, live, save=False)  # (the array shown: edits go to it)
            self._restore_classes(project, image_id)
            return True
        finally:  # (what opening or restoring found, each told once: labels set aside too)
            while project is not None and project.problems:
                self.host.notify(project.problems.pop(0), "warning")

    def _old_shape_set_aside(self, project: Project, image_id: str) -> bool:
        """Was the image's saved work made for labels of another shape than the image open
        now has (its file was replaced)? Then it is set aside, not shown (the user is told
        by ``restore_from_project``), and the image goes on as one without labels."""
        shape = labels_shape(self.host.current_image())
        return shape is not None and project.set_aside_other_shape(image_id, shape)

    def follow_project_folder(self) -> None:
        """The project folder was moved while open (``project_folder``): its models are
        listed from where they are now, and the current model, one of them, is found there
        (its path pointed into the old folder, where nothing loads any more)."""
        project = self.project
        if project is None or self.library.folders.get("project") == project.models_dir:
            return
        self.library.folders["project"] = project.models_dir
        model = self.model
        if model is not None and getattr(model, "source", None) == "project":
            try:
                self.model = self.library.get(model.ref)
            except UserError as error:
                self.host.notify(f"project model not available: {error}", "warning")
        self.models_listed.emit()

    def show_merged(self) -> None:
        """Redraw what the project merged into this window's labels and reviewed marks when
        it stopped being read-only (``project_merge``: what the other window saved). The
        labels changed under the edits computed from them and the ids handed out."""
        if self.project is None:
            return
        arrays, regions = self.project.take_merged()
        current = self.host.current_labels()
        if current is not None and any(array is current for array in arrays):
            self.labels_changes += 1
            self._fresh_ids.forget()
            self.host.refresh_labels()
        if self.reviewed is not None and any(merged is self.reviewed for merged in regions):
            self._refresh_overlay()
            self.reviewed_changed.emit()

    def _on_image_renamed(self, old: str, new: str, source: str | None) -> None:
        """The user renamed an image layer: its project image follows (its corrections stay
        linked to it), and it stays the image last looked at."""
        if self._last_image == old:
            self._last_image = new
        self.follow_left_out(old, new)  # (an image taken out of the project stays out)
        ref = None if self.project is None else self.project.find_image(old, source)
        if ref is not None:
            from unet_studio.app.qt.train_logic import rename_in_replay

            self.project.rename_image(ref.id, new)
            try:
                rename_in_replay(self.project, old, new)
            except UserError as error:  # an unreadable buffer: training will say so too
                self.host.notify(str(error), "warning")
        self.image_renamed.emit(old, new)

    def _series_of(self, name: str | None) -> int:
        """Which image of its multi-series file (from 0) the open image layer ``name`` (None:
        the current image) is, where the host says (napari's: our reader's metadata)."""
        return getattr(self.host, "image_series", lambda name=None: 0)(name)

    def _ref_of_open_image(self, name: str):
        """The project image that the open image layer ``name`` stands for, or None."""
        source = getattr(self.host, "image_source", lambda name=None: None)(name)
        return self.project.find_image(name, source)

    def project_line(self) -> str:
        """The Correct panel's line on the project: its folder, and why the corrections are
        kept in memory instead of saved there (a folder that cannot be written), if so."""
        project = self.project
        if project is None:
            return "No project open yet."
        note = project.saving_note()
        if self.saving_elsewhere is not None:
            note = f"Saving it in {self.saving_elsewhere}: copying its models…"
        return f"Project: {project.path}" + (f"\n{note}" if note else "")

    def close_project(self, *, tell: bool = True) -> None:
        """Close the open project, if any; the panels follow (``project_changed``: the
        Correct panel's "Project: ..." line read on after the project closed), but for
        ``tell`` False: the viewer going away, when no signal may fire into Qt's teardown."""
        was_open = self.project is not None
        self._close_project()
        if was_open and tell and alive(self):
            self.project_changed.emit()

    def _close_project(self) -> None:
        """Close the open project without a word: the caller tells (``project_changed``)
        once its change is complete (another project opened)."""
        # The snapshots of the last edits, for the project to write; not a redraw (the viewer
        # may be closing).
        self._later.drop(SHOW_MARKS)
        self._later.run_all()
        if self.project is not None:
            self.project.close()
        self.project = None
        self.image_id = None

    def _project_for_current(
        self, create: bool = True, ensure: bool = False
    ) -> tuple[Project | None, str | None]:
        """The project and the id of the current image in it (added when ``create``; with
        ``ensure`` an autosave project is started first when none is open). An image the
        user took out of the project (``session_project_images``) is not added back: with
        ``create``, (None, None), as nothing of it is saved."""
        if ensure and self.project is None and self.host.current_image() is not None:
            self.autosave_project()  # (None when it cannot be: the work stays in memory)
        project = self.project
        image = self.host.current_image()
        if project is None or image is None:
            return project, None
        source = getattr(self.host, "image_source", lambda: None)() or ""
        ref = project.find_image(image.name, source)
        if ref is not None:
            self.image_id = ref.id
            return project, ref.id
        if not create:
            return project, None
        if self.left_out_of_project(image):  # (taken out of it: no project saves its edits)
            return None, None
        labels = self.host.current_labels()
        series = self._series_of(None) if source else 0
        ref = project.add_image(source, axes=image.axes, name=image.name,
                                shape=None if labels is None else labels.shape,
                                scale=image.scale,
                                selection={SERIES_KEY: series} if series else {})  # fmt: skip
        self.image_id = ref.id
        # (a channel layer of a multichannel file: which channel, for rounds that read the
        # image back from the file after the layer was closed)
        note_file_channel(project, ref.id, image)
        if labels is not None:
            project.attach_labels(ref.id, labels, save=True)
            self._note_classes(project, ref.id)  # (a class map stays one when reopened)
            self._bring_carried(project, ref.id, image.name, labels)  # (their marks too)
        return project, ref.id



def labels_shape(image) -> tuple[int, ...] | None:
    """The shape of the labels of a HostImage: its shape without the C axis (None when its
    axes do not name its dimensions)."""
    if image is None or len(image.axes) != len(image.shape):
        return None
    return tuple(n for n, letter in zip(image.shape, image.axes) if letter != "C")
