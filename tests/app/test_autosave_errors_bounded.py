"""AutosaveWriter.errors stays bounded while a write fails for hours (a full disk retried
every second), and flush() still tells each failed round."""

from __future__ import annotations

import errno
import re

from unet_studio.app.autosave import AutosaveWriter


def test_retries_keep_one_error_per_key_and_flush_still_fails():
    writer = AutosaveWriter(0.0, name="test autosave")
    disk = {"full": True, "tries": 0}

    def write_labels():
        disk["tries"] += 1
        if disk["full"]:
            raise OSError(errno.ENOSPC, f"No space left on device (try {disk['tries']})")

    writer.submit("labels", write_labels)
    for _ in range(5):  # each flush retries it now, and it fails again
        assert not writer.flush(5)
    # (the writer thread may retry on its own too, between flushes: at least 5 tries, one
    # error kept, the latest)
    assert disk["tries"] >= 5
    (error,) = writer.errors
    told = re.fullmatch(r"labels: \[Errno 28\] No space left on device \(try (\d+)\)", error)
    assert told and int(told.group(1)) >= 5
    disk["full"] = False
    assert writer.flush(5)  # nothing failed since the previous flush: all written

    def write_history():
        raise OSError(errno.EROFS, "Read-only file system")

    writer.submit("history", write_history)
    assert not writer.flush(5)
    assert len(writer.errors) == 2 and writer.errors[-1].startswith("history: ")
    writer.submit("history", lambda: None)  # (a newer job replaces the failing one)
    assert writer.close()
