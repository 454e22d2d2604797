"""Byte counts as a person reads them ("512 KiB", "12.0 MiB", "1.2 GiB"), for messages about
files and disks (Qt-free): a small output's size in GiB reads "0.0 GiB"."""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def size_text(nbytes: int | float) -> str:
    """``nbytes`` in the largest binary unit that keeps it at least 1 ("0 B" for none):
    bytes whole, the others to one decimal."""
    value = float(nbytes)
    for unit in _UNITS[:-1]:
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} {_UNITS[-1]}"
