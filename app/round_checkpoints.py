"""Where a project keeps the checkpoints of its Train rounds, and which of them nothing can
resume from any more (no Qt, no torch).

A round checkpoints into ``training/from-<source>-<model folder>`` (``best`` and ``last``,
the latter with the optimiser's state: twice the model's size, 230 MB for a ResNet-18
U-Net). A finished round clears its folder; a cancelled or killed one keeps it so that the
next round from the same model resumes, and one from an untrained network that beat nothing
yet keeps its steps for the next. The folder is named after its parent model, so it is only
ever found again from that model: once the model is gone, nothing reads it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

TRAINING_DIR = "training"  # inside the project: checkpoints of the rounds, replay buffer
CHECKPOINT_PREFIX = "from-"  # a round's checkpoint folder: "from-<source>-<model folder>"


def checkpoint_folder_name(source: str, model_folder: str) -> str:
    """The name of the checkpoint folder of the rounds from a model of ``source`` ("project",
    "user", "bundled", "folder") whose folder is named ``model_folder``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{CHECKPOINT_PREFIX}{source}-{model_folder}")


def checkpoint_folders(project_folder: Path) -> list[Path]:
    """The rounds' checkpoint folders in ``project_folder`` (none when it has no
    ``training/``), by name. Hidden (temporary) names are not rounds' folders."""
    training = Path(project_folder) / TRAINING_DIR
    if not training.is_dir():
        return []
    return sorted(path for path in training.iterdir()
                  if path.name.startswith(CHECKPOINT_PREFIX) and path.is_dir()
                  and not path.is_symlink())


def orphaned_project_checkpoints(project_folder: Path) -> list[Path]:
    """Checkpoint folders of rounds from a *project* model that is no longer in the
    project's ``models/`` (removed, or gone while the project was closed): no round can
    start from it again, so nothing resumes them. Those from a user's, bundled or chosen
    folder's model are not judged here (that model lives outside the project)."""
    project_folder = Path(project_folder)
    models = project_folder / "models"
    names = ({checkpoint_folder_name("project", path.name) for path in models.iterdir()
              if not path.name.startswith(".")} if models.is_dir() else set())
    prefix = checkpoint_folder_name("project", "")
    return [folder for folder in checkpoint_folders(project_folder)
            if folder.name.startswith(prefix) and folder.name not in names]


def remove_orphaned_checkpoints(project_folder: Path) -> list[Path]:
    """Delete :func:`orphaned_project_checkpoints`; the folders removed. Only the project's
    writer may call it (the one that holds its lock: no round of another window writes
    there). OSError when one cannot be removed (the others stay removed)."""
    removed = []
    for folder in orphaned_project_checkpoints(project_folder):
        shutil.rmtree(folder)
        removed.append(folder)
    return removed
