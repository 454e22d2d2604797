"""The history and the models of the project open that go into a new project made from its
work: Correct > New project…, or the close question's "Save project…" for a project whose
folder cannot be written (``project_writable``). The labels and marks go along already
(``session_carry``); without the history and models the new project was the labels alone:
a round waiting for its verdict did not come back waiting, Roll back, the rejected rounds
and the lineage of its models started over, and the current model, a round of the project
left, was recorded as "project:<name>" in a project without it (QA: a fine-tuned model
accepted in the autosave project, then New project…: reopened, "project model not
available", the model and its versions gone from the Models and Train panels).

So a new project takes the whole work, as "save as" does: the project left stays as it was
(a round waiting there still waits there, the next time it is opened). New project…'s
tooltip says so (``correct_tips``).

For a project another window writes (``Project.read_only``: its lock held there): what
this window logged is kept in memory just the same, saved there only once that window has
closed it, and lost when this one leaves it for the new project.

What goes along, and why so:

* Every history entry of the project left, the ones kept in memory only too (its folder
  could not be written: ``HistoryLog`` keeps them back), with their own times, each marked
  ``from_project`` (the folder it was logged in). They are logged after the new project's
  own first entries ("create project", the model it records, its images): a model recorded
  after them would read as a verdict and end the round that waits (``waiting_round``).
* The model folders of the project left (its ``models/``: its rounds) are copied into the
  new project's ``models/`` under the same names, and the entries that name them by path
  name the copies. The folder left may go away (a card, a share, a read-only mount), and
  the project's models are the project's: listed with it, offered by Roll back, removed
  with its rejected rounds. Refs ("project:x") name the copies by themselves. "Save
  project…" copies them in a worker thread before the new project is made
  (``staged_models``), and they are moved in (:meth:`CarriedHistory.take_staged`).
* Rounds saved in the user's models (the project's folder could not be written then) stay
  there, named by their absolute paths: the user's models stay where they are.
* The image ids of the entries follow the images into the new project (its ids may differ).

What does not go along: the training folder (checkpoints of an unfinished round, the replay
buffer), which later rounds rebuild from the project's reviewed corrections.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from unet_studio.app.project import Project
from unet_studio.app.qt.moved_history import PATH_FIELDS
from unet_studio.app.qt.staged_models import StagedModels

log = logging.getLogger(__name__)


def keeps_work_in_memory(project: Project | None) -> bool:
    """Does ``project`` keep this window's work in memory only, so that closing loses it
    unless it is saved in a new project (the close question's "Save project…")? Its folder
    cannot be written
    (``kept_in_memory``), or another window writes it (``sharing_problem``: asked, it also
    notices that window closed it, and this one then saves there and keeps its own)."""
    if project is None:
        return False
    return project.kept_in_memory() or project.sharing_problem() is not None


@dataclass
class CarriedHistory:
    """What a new project takes of the project left (``from_path``), read before it closes:
    its ``entries`` (oldest first), its ``models_dir`` and its images (id -> (name, file))."""

    from_path: Path
    models_dir: Path
    entries: list[dict]
    images: dict[str, tuple[str, str]]
    copied: dict[Path, Path] = field(default_factory=dict)  # resolved old folder -> copy
    new_models: Path | None = None  # the new project's models, once copied into
    problems: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, project: Project | None) -> CarriedHistory | None:
        """What a new project takes of ``project``, the one open: its history and models
        (None: no project open)."""
        if project is None:
            return None
        images = {ref.id: (ref.name, str(project.resolve_image_path(ref.id)) if ref.path else "")
                  for ref in project.images}  # fmt: skip
        return cls(project.path, project.models_dir, project.history(), images)

    def copy_models(self, project: Project) -> None:
        """Copy the model folders of the project left into ``project``'s models (a new
        project: none there yet). A folder that cannot be copied is said (``problems``)
        and left where it is, named by its old path."""
        self.new_models = project.models_dir
        if not self.models_dir.is_dir():
            return
        for folder in sorted(self.models_dir.iterdir()):
            target = project.models_dir / folder.name
            if folder.name.startswith(".") or not folder.is_dir() or target.exists():
                continue  # (a model being written when it closed: never whole)
            try:
                shutil.copytree(folder, target)
            except OSError as error:
                shutil.rmtree(target, ignore_errors=True)
                self.problems.append(f"The model {folder.name} was not copied into the new "
                                     f"project ({error}); it stays in {self.models_dir}.")
                continue
            self.copied[folder.resolve()] = target

    def take_staged(self, staged: StagedModels, project: Project) -> None:
        """Move the model folders copied beforehand (``staged``, beside the new project's
        folder: on its file system) into ``project``'s models, as :meth:`copy_models` would
        have copied them; its problems (folders that could not be read) are told too."""
        self.new_models = project.models_dir
        self.problems.extend(staged.problems)
        for name in staged.names:
            target = project.models_dir / name
            try:
                os.rename(staged.staging / name, target)
            except OSError as error:  # (not expected: the same file system, a new folder)
                self.problems.append(f"The model {name} was not copied into the new project "
                                     f"({error}); it stays in {self.models_dir}.")
                continue
            self.copied[(self.models_dir / name).resolve()] = target

    def copy_of(self, model) -> Path | None:
        """The copy in the new project of the model folder ``model`` (a path), if any."""
        try:
            return self.copied.get(Path(model).resolve())
        except (OSError, ValueError, TypeError):
            return None

    def log_into(self, project: Project) -> None:
        """Log the entries of the project left into ``project`` (after its own)."""
        ids = self._image_ids(project)
        project.log_carried([self._carried(entry, ids) for entry in self.entries])

    def _carried(self, entry: dict, ids: dict[str, str]) -> dict:
        moved = {key: str(self._model_now(entry[key])) for key in PATH_FIELDS
                 if isinstance(entry.get(key), str) and self._model_now(entry[key]) is not None}
        if entry.get("image") in ids:
            moved["image"] = ids[entry["image"]]
        # (an entry carried before keeps the project it was logged in)
        return {**entry, **moved, "from_project": entry.get("from_project", str(self.from_path))}

    def _model_now(self, model: str) -> Path | None:
        """Where a model the history names by path is now in the new project: its copy; a
        folder of the old models that is gone (renamed or removed since) by its name there
        as well, so that the history reads as one project's. None: left as it is."""
        path = Path(model)
        if not path.is_absolute():
            return None  # (a ref: "project:x" names the copy by itself)
        copy = self.copy_of(path)
        if copy is not None:
            return copy
        try:
            in_old_models = path.parent.resolve() == self.models_dir.resolve()
        except OSError:
            return None
        if in_old_models and not path.exists() and self.new_models is not None:
            return self.new_models / path.name
        return None

    def _image_ids(self, project: Project) -> dict[str, str]:
        """The ids of the images left that the new project holds under another id."""
        ids = {}
        for old_id, (name, source) in self.images.items():
            ref = project.find_image(name, source or None)
            if ref is not None and ref.id != old_id:
                ids[old_id] = ref.id
        return ids
