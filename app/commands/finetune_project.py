"""``unet-studio finetune --project DIR``: learn from a project made in the GUI, as its Train
panel does: every image with reviewed marks, its corrected labels, only the reviewed pixels.

The core-facility workflow: annotators correct in the GUI, training runs on a GPU server,
maybe while the project is still open in a window. So the project is only read: no lock is
taken (the window keeps writing it), nothing is migrated, repaired or set aside, and a label
store is read as it is, never "recovered" (that would move chunks under a saving window).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from pathlib import Path

from unet_studio.app.chunk_store import COMMIT, JOURNAL, ChunkStore
from unet_studio.app.errors import InputFileError, UserError
from unet_studio.app.project import FORMAT, Project
from unet_studio.app.project_saving import PROJECT_FILE

log = logging.getLogger(__name__)

SAVE_SETTLE_SECONDS = 5.0  # how long to wait for a window to finish moving saved chunks
PROJECT_DEPTH = 5  # PROJECT/images/NAME/labels/g000001: how far inside a project to look


def project_folder_of(path: str | Path) -> Path | None:
    """The project folder ``path`` is or lies in (a labels store of it, say), or None."""
    path = Path(path).expanduser()
    for folder in [path, *path.parents][:PROJECT_DEPTH + 1]:
        try:
            meta = json.loads((folder / PROJECT_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and meta.get("format") == FORMAT:
            return folder
    return None


def refuse_project_path(path: str) -> None:
    """A project (or a folder in one) given as an --image or --labels file: its labels are
    chunk stores that only mean something with its reviewed marks and image list."""
    folder = project_folder_of(path)
    if folder is None:
        return
    where = ("this is a unet-studio project" if folder == Path(path).expanduser()
             else f"this is inside the unet-studio project {folder}")
    raise UserError(f"{path}: {where}: use --project {folder} to learn from its corrections")


class ProjectReader(Project):
    """A project opened only to read its corrections (see the module's docstring)."""

    def _may_write(self) -> bool:
        return False  # (a Project takes the lock here once the other writer has closed)

    def labels(self, image_id: str):
        store = _StoreAsItIs(self.path / "images" / image_id / "labels")
        waited = time.monotonic()
        while (store.directory / JOURNAL / COMMIT).exists():  # (chunks being moved in place)
            if time.monotonic() - waited > SAVE_SETTLE_SECONDS:
                raise UserError(f"{store.directory}: a save of these labels was cut off; open "
                                "the project in unet-studio once to finish it, then train")
            time.sleep(0.1)
        array, problems = store.read()
        self.problems += problems
        return array


class _StoreAsItIs(ChunkStore):
    """A label store read without finishing or dropping a journal: a window may be staging
    its next save there right now."""

    def recover(self) -> None:
        return None


def open_project(folder: str | Path) -> ProjectReader:
    """The project in ``folder``, for reading; InputFileError when it is none (or damaged),
    UserError when an image waits for an update only the GUI makes."""
    from unet_studio.app.project_migrate import pending_image

    folder = Path(folder).expanduser()
    file = folder / PROJECT_FILE
    if not folder.is_dir():
        raise InputFileError(folder, "is a file, not a project folder" if folder.exists()
                             else "no such project folder")
    try:
        meta = json.loads(file.read_text("utf-8"))
    except FileNotFoundError:
        raise InputFileError(folder, "not a unet-studio project (no project.json)") from None
    except (OSError, ValueError) as error:
        raise InputFileError(file, f"unreadable project file: {error}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputFileError(file, "not a unet-studio project file")
    project = ProjectReader(folder, meta)
    project.read_only = "unet-studio finetune"  # (nothing is saved, nothing set aside)
    old = [ref.name for ref in project.images if pending_image(folder, ref)]
    if old:
        project.close()
        raise UserError(f"{folder}: the saved work of {', '.join(old)} is in the axis order of "
                        "an earlier version; open the project in unet-studio once to update "
                        "it, then train")
    return project


@contextlib.contextmanager
def opened_project(folder: str | None):
    """The --project, read only, while the command runs (None without one)."""
    if folder is None:
        yield None
        return
    with open_project(folder) as project:
        yield project


def project_channels(project: ProjectReader) -> int:
    """The channels a new network gets from the project's first reviewed image: one where a
    channel was chosen or the file has none, else all of its file's."""
    from unet_studio.app.io import open_stack

    for ref in _reviewed_refs(project):
        if ref.selection.get("C") is not None or "C" not in ref.axes:
            return 1
        with open_stack(_image_file(project, ref), series=ref.series) as stack:
            return stack.sizes.get("C", 1)
    return 1


def project_examples(project: ProjectReader, *, percentiles: tuple[float, float],
                     spatial_dims: int, in_channels: int,
                     class_names: tuple[str, ...] | None = None) -> tuple[list, list[dict]]:
    """TrainingExamples of every reviewed image of ``project`` and what each came from;
    UserError when one cannot be read (naming it) or nothing is reviewed. ``class_names``:
    a semantic model's classes, the labels are checked to be class maps of them (as the
    --labels files are: ``finetune_data.unknown_classes_problem``)."""
    from unet_studio.app import training_data
    from unet_studio.app.commands.finetune_data import unknown_classes_problem

    refs = _reviewed_refs(project)
    if not refs:
        raise UserError(f"{project.path}: nothing is reviewed in this project: mark corrected "
                        "regions reviewed (Correct panel) before training")
    files = {ref.name: _image_file(project, ref) for ref in refs}  # (each one checked)
    _refuse_other_kind(project, refs, files, class_names)
    pending, problems = training_data.project_examples(
        project, skip=set(), open_image=lambda name: None, percentiles=percentiles,
        spatial_dims=spatial_dims, in_channels=in_channels)
    problems += project.problems  # (label chunks that could not be read, say)
    if problems:
        raise UserError(f"{project.path}: {problems[0]}")
    examples, sources = [], []
    for example in pending:
        log.info("reading the reviewed part of %s", example.name)
        examples.append(example.read())
        ref = next(r for r in refs if r.name == example.name)
        problem = None if class_names is None else unknown_classes_problem(
            examples[-1].labels, examples[-1].reviewed, class_names, verb="hold")
        if problem is not None:  # (before training; the engine names neither project nor file)
            raise UserError(f"{project.path}: the labels of the image {ref.name} "
                            f"({files[ref.name]}) {problem}")
        image_dir = project.path / "images" / ref.id
        sources.append({"project": str(project.path), "image": str(files[ref.name]),
                        "labels": str(image_dir / "labels"),
                        "reviewed": str(image_dir / "reviewed.npz"), "axes": ref.axes,
                        **({"series": ref.series + 1} if ref.series else {})})  # (from 1)
    return examples, sources


def _refuse_other_kind(project: ProjectReader, refs: list, files: dict,
                       class_names: tuple[str, ...] | None) -> None:
    """UserError naming the first reviewed image whose labels the project records as the
    other kind than the model's (a class map for an objects model, objects or other classes
    for a semantic one), as the Train panel refuses them (``app.labels_kind``)."""
    from unet_studio.app.class_map import class_values
    from unet_studio.app.labels_kind import kind_mismatch

    wanted = class_values(class_names) if class_names else ()
    for ref in refs:
        mismatch = kind_mismatch(project.image_classes(ref.id), wanted)
        if mismatch is not None:
            raise UserError(mismatch.sentence(
                f"{project.path}: the labels of the image {ref.name} ({files[ref.name]})",
                "the model", verb="are") + f"; fine-tune {mismatch.wanted_model} instead (--model)")


def _reviewed_refs(project: ProjectReader) -> list:
    refs = []
    for ref in project.images:
        regions = project.reviewed(ref.id)
        if regions is not None and regions.any():
            refs.append(ref)
    if project.problems:  # (damaged reviewed marks: not silently left out)
        raise UserError(project.problems[0])
    return refs


def _image_file(project: ProjectReader, ref) -> Path:
    """The file of the project image ``ref``; UserError naming it when it is missing."""
    if not ref.path:
        raise UserError(f"{project.path}: the project records no file for the image "
                        f"{ref.name} (it was added from memory, not opened from a file), so "
                        "its pixels cannot be read here")
    path = project.resolve_image_path(ref.id)
    if not path.exists():
        raise UserError(f"{path}: the image file of {ref.name} in the project {project.path} "
                        "is missing; put it back there, or reopen the image in the project")
    return path
