"""The project's history read with its own models where they are now, after the project
folder was moved or copied (a lab server, another disk).

The history names a model by its folder path as it was then (``train_versions``), and
moving or copying the folder leaves those paths pointing at the old place: the rounds the
user rejected would match no listed model, and nothing could be offered for removal.

How the old places are known, and why only those: every Train round of this project is
saved in the project's own ``models/`` and logged ("fine-tune") by its path, so the
folders that hold a logged round are this project's ``models/`` as it was then (one per
earlier place). A path in one of them names this project's model of that name, which sits
in ``models/`` now. Other paths (a user's model, another project's) are left as they are.
Where the old place holds another project since, what this history says of a folder there
is moved onto this project's folder of that name: a verdict that model was used or removed
then only keeps a round; a Reject or a round is only ever logged for this project's own.
"""

from __future__ import annotations

from pathlib import Path

# The entries' fields that name a model folder by its path (or a ref, left as it is).
PATH_FIELDS = ("model", "renamed_from", "parent")


class MovedHistory:
    """Stands for ``project`` where only its history is read (``train_versions``'s
    ``model_verdicts``, which reads every history through it): its entries, with the paths of its own models as they are now."""

    def __init__(self, project):
        self.project = project
        entries = project.history()
        self.relocate = relocation(entries, project.models_dir)
        self._entries = [relocated(entry, self.relocate) for entry in entries]

    def history(self) -> list[dict]:
        return self._entries


def relocation(entries: list[dict], models_dir: Path):
    """A function that takes a model named in ``entries`` (a path or a ref, or None) to
    where it is now: a path in one of the project's former ``models/`` folders becomes
    the same name in ``models_dir``; anything else is returned as it is."""
    former = {Path(entry["model"]).parent for entry in entries
              if entry.get("action") == "fine-tune" and _is_path(entry.get("model"))}
    # (a round of a project whose folder could not be written was saved in the user's
    # models: a folder still there that is no project's models is not a former place)
    former = {folder for folder in former
              if not folder.is_dir() or (folder.parent / "project.json").is_file()}

    def relocate(model):
        if _is_path(model) and Path(model).parent in former:
            return str(Path(models_dir) / Path(model).name)
        return model

    return relocate


def relocated(entry: dict, relocate) -> dict:
    """``entry`` with the model paths of its ``PATH_FIELDS`` where they are now."""
    moved = {key: relocate(entry[key]) for key in PATH_FIELDS if key in entry}
    return {**entry, **moved} if moved else entry


def _is_path(model) -> bool:
    # (a ref, "project:x", is not absolute; an absolute path is what a round is logged by)
    return isinstance(model, str) and Path(model).is_absolute()
