"""Whether a Qt object still has its C++ half: Qt deletes widgets under their Python
wrappers (a closed panel, interpreter exit), and a late signal or listener reaching one
raises "already deleted"."""

from __future__ import annotations


def alive(qobject) -> bool:
    """True while ``qobject``'s C++ object exists."""
    try:
        qobject.objectName()
    except RuntimeError:  # (its C++ half is gone)
        return False
    return True
