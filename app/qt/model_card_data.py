"""A model's training data as its card says it (no widgets here): what ``config.json``
records, read back as a sentence. ``finetune`` and the Train panel record
``{"files": [...], "summary": {...}}`` (the files as dicts of paths, or the images' names),
which the card showed as raw Python dicts ("files: [{'image': '/a/long/path.tif', ...}]
summary: {'examples': 1, 'slabs': 3, ..., 'data_hash': 'b78d...'}")."""

from __future__ import annotations

from pathlib import PurePath

NOT_RECORDED = "not recorded"
# Files named on the card before "and N more" (a project of 200 images is one line).
MOST_FILES_SHOWN = 5


def training_data_text(data) -> str:
    """``data`` (the metadata's ``training_data``: text, a list of texts, or the record of
    a training run) as one readable line."""
    if not data:
        return NOT_RECORDED
    if isinstance(data, str):
        return data
    if isinstance(data, list | tuple):
        return "; ".join(map(str, data))
    if not isinstance(data, dict):
        return str(data)
    if not {"files", "summary"} & set(data):
        return ", ".join(f"{key}: {value}" for key, value in data.items())
    parts = [files_text(data.get("files") or [])]
    summary = data.get("summary")
    if isinstance(summary, dict):
        parts.append(counts_text(summary))
    return "; ".join(part for part in parts if part) or NOT_RECORDED


def files_text(files: list) -> str:
    """"2 images: a.tif (labels a_classes.tif), b.tif (from the project P)"."""
    if not isinstance(files, list | tuple) or not files:
        return ""
    names = [file_text(entry) for entry in files]
    shown = ", ".join(names[:MOST_FILES_SHOWN])
    if len(names) > MOST_FILES_SHOWN:
        shown += f" and {len(names) - MOST_FILES_SHOWN} more"
    return f"{len(names)} image{'s' if len(names) != 1 else ''}: {shown}"


def file_text(entry) -> str:
    """One image the model learnt from, by file name, with its labels and reviewed mask (the
    command line's) or the project it came from (the project's labels are a folder in it)."""
    if not isinstance(entry, dict):
        return _name(entry)
    text = _name(entry.get("image", "?"))
    if entry.get("project"):
        return f"{text} (from the project {_name(entry['project'])})"
    extras = [f"{key} {_name(entry[key])}" for key in ("labels", "reviewed") if entry.get(key)]
    return f"{text} ({', '.join(extras)})" if extras else text


def _name(path) -> str:
    return PurePath(str(path)).name or str(path)


def counts_text(summary: dict) -> str:
    """"196,608 reviewed pixels (28,672 held out for scoring), 1,204 changed by hand"; the
    run's bookkeeping (slabs, blocks, the data's hash) is left out."""
    reviewed, held_out = summary.get("reviewed_pixels"), summary.get("val_pixels")
    parts = []
    if _count(reviewed):
        text = f"{reviewed:,} reviewed pixels"
        parts.append(text + (f" ({held_out:,} held out for scoring)" if _count(held_out) else ""))
    elif _count(summary.get("examples")):
        parts.append(f"{summary['examples']} example(s)")
    if _count(summary.get("changed_pixels")):
        parts.append(f"{summary['changed_pixels']:,} changed by hand")
    if _count(summary.get("replay_examples")):
        parts.append(f"{summary['replay_examples']} example(s) of earlier rounds replayed")
    return ", ".join(parts)


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
