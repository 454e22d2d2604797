"""The Correct panel's tooltips (no widgets here): what each button does, and its key."""

from __future__ import annotations

TOOL_KEY_TIPS = {  # ({action} stands for its key)
    "add": "Click inside an object the network missed: it is found from the image around "
           "the click (the whole object, in 3D too). Or press {add} over it",
    "delete": "Or press {delete} with the mouse pointer over the object",
    "merge": "Or press {merge} over one object, then {merge} over the object to join to it. "
             "Picks at two time points join two tracks of one cell",
    "split": "Or press {seed} over each part of the object, then {split}",
    "pick": "Or press {pick} with the mouse pointer over the object",
}

# What the buttons without a key of their own do; Apply's says when it can be pressed (it
# is greyed out until then, with nothing else to say why).
BUTTON_TIPS = {
    "apply_button": "Merge: once two or more objects are clicked. Split: once two or more "
                    "seeds are clicked in one object",
    "relabel_button": "Renumber the objects 1, 2, 3… without gaps (the outlines stay)",
    "fresh_button": "Choose a label no object has yet, then paint the new object with napari's "
                    "brush. An image without labels gets empty ones to paint by hand; 8-bit "
                    "labels whose ids ran out are offered 32-bit ids",
    "undo_button": "Undo the last edit of the labels (or Ctrl+Z over the canvas)",
    "redo_button": "Redo the edit undone last (or Ctrl+Shift+Z over the canvas)",
    "draw_button": "Draw shapes on the canvas around what you have checked, then Mark drawn region",
    "mark_drawn_button": "Mark the shapes drawn with Draw region as reviewed",
    "auto_check": "Each edit marks its surroundings, in the slice or time point edited, as reviewed",
    "overlay_check": "Tint the reviewed regions on the canvas",
    "new_project_button": "Keep this work in a folder of your choice (save as): the images' "
                          "corrections, reviewed marks, models and training rounds; the "
                          "project open now stays as it is",
    "open_project_button": "Reopen a project folder: its images come back with their "
                           "corrections and reviewed marks",
}  # fmt: skip

# The object tools and keys that a class map refuses (``app.class_map``), by what they are
# called in the refusal; K (pick a label) and the review keys stay.
OBJECT_ACTIONS = {"add": "Add object", "delete": "Delete", "merge": "Merge", "seed": "Split",
                  "split": "Split", "fill": "Fill holes", "interpolate": "Fill between slices",
                  "interpolate all": "Fill between slices", "cut": "Cut track",
                  "next": "Find objects to check", "previous": "Find objects to check"}  # fmt: skip

# The status line while regions are drawn: the regions layer is active, and napari asks the
# active layer first, so its shape keys (R rectangle, D direct select, S select...) take the
# keys of the object tools until the drawn regions are marked.
DRAWING_REGION = ("Drawing regions: outline what you have checked (double-click closes a "
                  "shape), then Mark drawn region. Until then the keys are napari's shape "
                  "keys (R draws a rectangle, D and S select); the object keys act again "
                  "once the regions are marked.")
