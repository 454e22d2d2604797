"""Which key does which pointer tool (``pointer_tools``): the defaults, changed by the user
in ``settings.json`` under ``"keys"``, e.g. ``{"keys": {"delete": "Q", "add": "Shift-A"}}``
(an action name, then a key as napari names them: a letter or digit, with ``Shift-``,
``Control-`` or ``Alt-`` before it; ``+`` works too). A key napari's Labels or Image layer
binds itself (E P F L M X B Z, C O Y, digits, - = [ ]) is refused: the active layer's keys
come before the viewer's, so it would never reach the tool. Problems are reported, and the
default kept.
"""

from __future__ import annotations

# action -> default key
DEFAULT_KEYS = {
    "add": "A",
    "delete": "D",
    "merge": "G",
    "seed": "S",
    "split": "Shift-S",
    "fill": "H",
    "pick": "K",
    "interpolate": "I",
    "interpolate all": "Shift-I",
    "cut": "U",  # (unlink; C is the image layer's auto-contrast)
    "review": "R",
    "unreview": "Shift-R",
    "next": "N",  # (Find objects to check: the next object, wherever the pointer is)
    "previous": "Shift-N",
}
# Keys napari's Labels and Image layers bind themselves (the active layer's keys come first).
NAPARI_LAYER_KEYS = set("EPFLMXBZCOY0123456789-=[]")
MODIFIERS = {"shift": "Shift", "control": "Control", "ctrl": "Control", "alt": "Alt"}


def key_map(settings: dict) -> tuple[dict[str, str], list[str]]:
    """({action: key}, problems) from the user's ``settings``."""
    keys = dict(DEFAULT_KEYS)
    chosen = settings.get("keys", {})
    if not isinstance(chosen, dict):
        return keys, ['"keys" must be an object of action: key, e.g. {"delete": "Q"}']
    problems = []
    for action, text in chosen.items():
        if action not in DEFAULT_KEYS:
            problems.append(f'no key action "{action}" (there are: {", ".join(DEFAULT_KEYS)})')
            continue
        key = normalised_key(text)
        if key is None:
            problems.append(f'"{text}" for {action} is not a key (a letter or digit, maybe '
                            'with Shift-, Control- or Alt-)')  # fmt: skip
        elif key in NAPARI_LAYER_KEYS:
            problems.append(f'"{key}" for {action} is napari\'s own key for labels or images')
        elif key in (k for a, k in keys.items() if a != action):
            problems.append(f'"{key}" for {action} is taken already')
        else:
            keys[action] = key
    return keys, problems


def normalised_key(text) -> str | None:
    """``text`` as napari names the key ("shift+a" -> "Shift-A"), or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    parts = [p.strip() for p in text.replace("+", "-").split("-")]
    *modifiers, key = parts
    if len(key) != 1 or not key.isalnum() or not key.isascii():
        return None
    names = []
    for modifier in modifiers:
        name = MODIFIERS.get(modifier.lower())
        if name is None or name in names:
            return None
        names.append(name)
    return "-".join(sorted(names) + [key.upper()])


def keys_help(keys: dict[str, str], time_series: bool = True, plane: str = "slice") -> str:
    """The status line's list of the keys (the track key only for a time series); ``plane``:
    what the plane on screen is called ("slice", "time point": ``plane_word``)."""
    k = {action: key.replace("-", "+") for action, key in keys.items()}
    track = f", {k['cut']} cut its track" if time_series else ""
    return (f"Keys over an object: {k['add']} add one the network missed, {k['delete']} delete, "
            f"{k['merge']} then {k['merge']} merge two, {k['seed']} on each part then "
            f"{k['split']} split, {k['fill']} fill its holes, {k['pick']} paint with its label, "
            f"{k['interpolate']} fill the {plane}s between its painted {plane}s "
            f"({k['interpolate all']}: of every object){track}; "
            f"{k['review']} marks the {plane} reviewed ({k['unreview']} unmarks); {k['next']} / "
            f"{k['previous']} the next / previous object to check.")  # fmt: skip
