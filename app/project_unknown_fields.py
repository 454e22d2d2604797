"""Entries of ``project.json`` that this build does not know (a newer build of the same
format version added them, at the top level or in an image's entry): kept as they are when
this build rewrites the file, so that the newer build finds them again."""

from __future__ import annotations

from dataclasses import fields

from unet_studio.app.project_images import ImageRef

# What ``Project._meta`` writes: every other top-level key is a newer build's
KNOWN_TOP = frozenset({"format", "format_version", "name", "created", "current_model",
                       "current_model_identity", "settings", "images"})
# (an image entry's known keys are ImageRef's fields: one left out on purpose, ``classes``
# when unrecorded, must not come back from the file)
KNOWN_IMAGE = frozenset(field.name for field in fields(ImageRef))


class UnknownFields:
    """The unknown entries of a ``project.json``: ``top`` (key -> value) and ``images``
    (image id -> its unknown keys and values)."""

    def __init__(self, top: dict | None = None, images: dict[str, dict] | None = None):
        self.top = dict(top or {})
        self.images = dict(images or {})

    @classmethod
    def of(cls, meta: dict) -> UnknownFields:
        """Those of ``meta`` (a ``project.json`` as read)."""
        top = {key: value for key, value in meta.items() if key not in KNOWN_TOP}
        images = {}
        entries = meta.get("images")
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                extra = {key: value for key, value in entry.items() if key not in KNOWN_IMAGE}
                if extra:
                    images[entry["id"]] = extra
        return cls(top, images)

    def take_new(self, meta: dict) -> None:
        """Also keep those of ``meta`` (the file as another window saved it) that are not
        kept here yet: this window's own stay as they are."""
        other = UnknownFields.of(meta)
        self.top = {**other.top, **self.top}
        for image_id, extra in other.images.items():
            self.images[image_id] = {**extra, **self.images.get(image_id, {})}

    def added_to(self, meta: dict) -> dict:
        """``meta`` (what ``Project._meta`` writes) with the unknown entries put back; a
        known key keeps its value from ``meta``."""
        images = [{**entry, **{key: value for key, value in self.images.get(entry["id"], {})
                               .items() if key not in entry}}
                  for entry in meta.get("images", [])]
        return {**meta, **{key: value for key, value in self.top.items() if key not in meta},
                "images": images}
