"""What an exported model keeps of where its owner worked: a model's config records its
parent's folder and, for a command-line round, the paths of its training files, all of them
the owner's ("/home/alice/lab/secret-project/..."), meaningless and private on a colleague's
machine. Export keeps the names (what the colleague can look up: the parent by name and
identity, the files by name) and leaves the folders out. The owner's own model is unchanged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from unet_studio.app.model_folder import CONFIG_FILE


def _is_path(text) -> bool:
    return isinstance(text, str) and ("/" in text or os.sep in text)


def _name_only(text: str) -> str:
    return Path(text).name if _is_path(text) else text


def shared_parent(parent):
    """The lineage's ``parent`` without its folder: a dict keeps its name, ref (a ref that is
    a folder becomes the name) and identity; a folder given as a string, its last part."""
    if isinstance(parent, str):
        return _name_only(parent)
    if not isinstance(parent, dict):
        return parent
    kept = {key: value for key, value in parent.items() if key != "path"}
    if _is_path(kept.get("ref")):
        kept["ref"] = kept.get("name") or _name_only(kept["ref"])
    return kept


def shared_files(files):
    """Training files by name: strings and the path values of dicts (image, labels, project)."""
    if not isinstance(files, list):
        return files
    return [_name_only(item) if isinstance(item, str) else
            {key: _name_only(value) for key, value in item.items()} if isinstance(item, dict)
            else item for item in files]  # fmt: skip


def strip_owner_paths(folder: Path) -> None:
    """Rewrite ``folder``'s config (an export's copy, before it is renamed into place)
    without the owner's folders."""
    path = Path(folder) / CONFIG_FILE
    config = json.loads(path.read_text("utf-8"))
    meta = config.get("metadata")
    if not isinstance(meta, dict):
        return
    for key in ("parent", "parent_model"):
        if key in meta:
            meta[key] = shared_parent(meta[key])
    if _is_path(meta.get("copied_from")):
        meta["copied_from"] = _name_only(meta["copied_from"])
    data = meta.get("training_data")
    if isinstance(data, dict) and "files" in data:
        data["files"] = shared_files(data["files"])
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", "utf-8")
