"""Whether a process still runs, by its id: a lock's writer (``project_lock``), the writer
of a temporary file left beside an output (``io.atomic``)."""

from __future__ import annotations

import os


def process_runs(pid: int) -> bool:
    """Does a process with id ``pid`` run (this one does)? When that cannot be told, yes:
    the callers then keep what the process may still be using."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # (there os.kill(pid, 0) does not ask: it ends the process)
        return _windows_process_runs(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # (another user's process: it runs)
    return True


def _windows_process_runs(pid: int) -> bool:
    import ctypes

    query_limited_information, still_active, access_denied = 0x1000, 259, 5
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:  # (no such process, unless it is one we may not look at)
        return ctypes.get_last_error() == access_denied
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)
