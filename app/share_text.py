"""A count out of a total as a percentage a person reads ("0.0039%"), for a share of a
stack's pixels (Qt-free): three edits on a 1.5 Gpx stack mark ~0.004% of it, which one
decimal rounds to "0.0%", read as nothing at all."""

from __future__ import annotations

import math

SMALLEST_PERCENT = 0.001  # under this, the share reads "< 0.001%" (the count beside it says the rest)


def percent_text(count: int, total: int) -> str:
    """``count`` of ``total`` as a percentage: one decimal from 0.1%, two significant
    digits below, never "0%" for some nor "100%" for not all. Say the count beside it."""
    count, total = int(count), max(int(total), 1)
    percent = 100 * count / total
    if count == 0 or count >= total:
        shown = f"{percent:.0f}%"
    elif percent < SMALLEST_PERCENT:
        shown = f"< {SMALLEST_PERCENT:g}%"
    elif percent < 0.1:  # (two significant digits: 0.0039, 0.012)
        decimals = 1 - math.floor(math.log10(percent))
        shown = f"{percent:.{decimals}f}%"
    else:
        shown = f"{min(percent, 99.9):.1f}%"  # (99.96 is not everything)
        shown = shown if percent <= 99.9 else f"> {shown}"
    return shown
