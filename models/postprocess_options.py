"""The post-processing options a model carries (``task.extra["postprocess"]``) or a caller
passes, checked before a run: a hand-edited config with a negative size or an unknown
option is a clear message naming the option, not a crash deep in the watershed."""

from __future__ import annotations

import math

# name -> (what it must be, test); None is allowed where the option has a "not set" meaning.
_NUMBER_RULES = {
    "min_size": ("a whole number of pixels, 0 or more", lambda v: float(v).is_integer() and v >= 0),
    "min_size_fraction": ("a fraction from 0 to 1", lambda v: 0 <= v <= 1),
    "seed_height": ("a positive number of pixels (or null)", lambda v: v > 0),
    "seed_height_fraction": ("0 or more", lambda v: v >= 0),
    "grow": ("0 or more pixels (or null: the whole boundary band)", lambda v: v >= 0),
    "threshold": ("a probability between 0 and 1", lambda v: 0 < v < 1),
    # (how the labelling is cut into batches: memory, not results; see batched_labels)
    "batch_pixels": ("a positive whole number of pixels", lambda v: float(v).is_integer() and v > 0),
    "giant_pixels": ("a positive whole number of pixels", lambda v: float(v).is_integer() and v > 0),
    # (time series: how many time points in a row an object may be missed, see time_links)
    "link_max_gap": ("a whole number of time points, 0 or more", lambda v: float(v).is_integer() and v >= 0),
}
_NULLABLE = {"seed_height", "grow", "batch_pixels", "giant_pixels"}
_SWITCHES = ("fill_holes", "link_over_time")


def check_postprocess(options) -> dict:
    """``options`` as a dict, or ValueError naming the first option that cannot work."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ValueError(f"post-processing options must be a mapping, got {type(options).__name__}")
    for name, value in options.items():
        if name in _SWITCHES:
            if not isinstance(value, bool):
                raise ValueError(f"post-processing option {name!r} must be true or false, got {value!r}")
            continue
        if name not in _NUMBER_RULES:
            known = ", ".join(sorted([*_NUMBER_RULES, *_SWITCHES]))
            raise ValueError(f"unknown post-processing option {name!r} (known: {known})")
        if value is None and name in _NULLABLE:
            continue
        what, fits = _NUMBER_RULES[name]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (number and math.isfinite(value) and fits(value)):
            raise ValueError(f"post-processing option {name!r} must be {what}, got {value!r}")
    return dict(options)
