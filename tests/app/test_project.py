"""Project store: restore after reopen, after a kill, atomicity, and autosave latency."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from unet_studio.app.chunk_store import ChunkStore
from unet_studio.app.corrections import merge_labels_edit, split_object_edit
from unet_studio.app.errors import InputFileError, UserError
from unet_studio.app.label_edit import edit_from_region
from unet_studio.app.project import Project


def labelled_stack(shape=(4, 600, 700), dtype=np.uint16) -> np.ndarray:
    """Objects in several chunks (chunks are 512x512 per plane)."""
    labels = np.zeros(shape, dtype)
    labels[0, 10:40, 10:40] = 1
    labels[1, 500:530, 600:650] = 2  # spans two chunks
    labels[3, 100:120, 100:160] = 3
    return labels


def test_create_open_roundtrip(tmp_path):
    folder = tmp_path / "proj"
    with Project.create(folder, name="HeLa", autosave_delay=0.05) as project:
        ref = project.add_image("/data/hela.tif", axes="TYX", selection={"T": [0, 4]},
                                shape=(4, 600, 700), dtype="uint16", scale={"Y": 0.3})  # fmt: skip
        labels = labelled_stack()
        project.attach_labels(ref.id, labels)
        edit = merge_labels_edit(labels, [2, 3])
        edit.apply_to(labels)
        project.record_edit(ref.id, edit)
        project.save_prediction(ref.id, labelled_stack())
        project.reviewed(ref.id, labels.shape).mark_slice(2)
        project.save_reviewed(ref.id)
        project.set_current_model("user:nuclei-v2")
    reopened = Project.open(folder)
    assert reopened.name == "HeLa" and reopened.current_model == "user:nuclei-v2"
    (image,) = reopened.images
    assert image.id == "hela" and image.axes == "TYX" and image.selection == {"T": [0, 4]}
    assert image.shape == (4, 600, 700) and image.scale == {"Y": 0.3}
    np.testing.assert_array_equal(reopened.labels(image.id), labels)
    np.testing.assert_array_equal(reopened.prediction(image.id), labelled_stack())
    assert reopened.reviewed(image.id).mask[2].all()
    actions = [entry["action"] for entry in reopened.history()]
    assert actions[:2] == ["create project", "add image"] and "set current model" in actions
    assert not reopened.problems
    reopened.close()


def test_refuses_wrong_folders(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("x")
    with pytest.raises(UserError, match="not empty"):
        Project.create(tmp_path / "full")
    with pytest.raises(InputFileError, match="no unet-studio project"):
        Project.open(tmp_path / "nothing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "project.json").write_text('{"format": "something else"}')
    with pytest.raises(InputFileError, match="not a unet-studio project"):
        Project.open(tmp_path / "bad")


def test_only_touched_chunks_are_rewritten(tmp_path):
    project = Project.create(tmp_path / "p", autosave_delay=0.0)
    ref = project.add_image("img.tif", axes="ZYX")
    labels = labelled_stack()
    project.attach_labels(ref.id, labels)
    assert project.flush(10)
    chunk_dir = tmp_path / "p" / "images" / ref.id / "labels" / "g000001"
    before = {p.name: p.stat().st_mtime_ns for p in chunk_dir.glob("*.npy.zst")}
    assert set(before) == {f"{k}.npy.zst" for k in ("0.0.0", "1.0.1", "1.1.1", "3.0.0")}
    time.sleep(0.02)
    edit = split_object_edit(labels, 3, [(3, 110, 105), (3, 110, 155)])
    edit.apply_to(labels)
    project.record_edit(ref.id, edit)
    assert project.flush(10)
    after = {p.name: p.stat().st_mtime_ns for p in chunk_dir.glob("*.npy.zst")}
    assert [name for name in after if after[name] != before[name]] == ["3.0.0.npy.zst"]
    project.close()


def test_new_labels_of_another_shape_replace_the_old_atomically(tmp_path):
    project = Project.create(tmp_path / "p", autosave_delay=0.0)
    ref = project.add_image("img.tif", axes="YX")
    project.attach_labels(ref.id, np.ones((50, 60), np.uint8))
    project.flush(10)
    replacement = np.zeros((70, 40), np.uint32)
    replacement[5, 5] = 9
    project.attach_labels(ref.id, replacement)
    project.close()
    store_dir = tmp_path / "p" / "images" / ref.id / "labels"
    assert sorted(p.name for p in store_dir.iterdir()) == ["array.json", "g000002"]
    np.testing.assert_array_equal(Project.open(tmp_path / "p").labels(ref.id), replacement)


@pytest.mark.parametrize("killed", ["staging", "moving"])
def test_a_write_of_many_chunks_is_whole_or_nothing(tmp_path, monkeypatch, killed):
    """An edit spanning many chunks (a 3D object over its planes) and a writer killed in
    the middle: reopened, the array is as it was before the write (killed while staging)
    or after it (killed while moving the committed chunks into place), never a mix."""
    import unet_studio.app.chunk_store as chunk_store

    store = ChunkStore(tmp_path / "labels")
    before = labelled_stack((6, 40, 50))
    store.write_generation(before.shape, before.dtype, {
        key: before[chunk_store.chunk_region(key, (1, 40, 50), before.shape)]
        for key in chunk_store.all_chunk_keys(before.shape)})  # fmt: skip
    after = before.copy()
    after[:, 5:30, 5:30] = 9  # every plane: six chunks
    after[3] = 0  # one plane emptied: its chunk file goes
    blocks = {(z, 0, 0): after[z:z + 1] for z in range(6)}
    calls = []
    real = chunk_store.atomic_write_json if killed == "staging" else chunk_store.os.replace

    def killed_midway(*args, **kwargs):
        moving = killed == "moving" and chunk_store.JOURNAL in str(args[0]) \
            and chunk_store.JOURNAL not in str(args[1])  # (a committed chunk into place)
        calls.extend([args] if moving or killed == "staging" else [])
        if killed == "staging" or len(calls) == 3:
            raise KeyboardInterrupt  # (the process dies here)
        return real(*args, **kwargs)

    name = "atomic_write_json" if killed == "staging" else "replace"
    target = chunk_store if killed == "staging" else chunk_store.os
    with monkeypatch.context() as patched:
        patched.setattr(target, name, killed_midway)
        with pytest.raises(KeyboardInterrupt):
            store.write_chunks(after.shape, after.dtype, blocks)
    restored, problems = ChunkStore(tmp_path / "labels").read()
    assert not problems
    np.testing.assert_array_equal(restored, before if killed == "staging" else after)
    assert not (tmp_path / "labels" / chunk_store.JOURNAL).exists()


def test_failed_writes_keep_the_previous_state_and_are_retried(tmp_path, monkeypatch):
    project = Project.create(tmp_path / "p", autosave_delay=0.0)
    ref = project.add_image("img.tif", axes="ZYX")
    labels = labelled_stack()
    project.attach_labels(ref.id, labels)
    assert project.flush(10)
    saved = labels.copy()

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    import unet_studio.models.files as files

    monkeypatch.setattr(files.os, "replace", disk_full)
    edit = edit_from_region(labels, (0, slice(0, 5), slice(0, 5)), np.full((5, 5), 7, np.uint16))
    edit.apply_to(labels)
    project.record_edit(ref.id, edit)
    assert not project.flush(10)
    assert "No space left" in project.autosave_errors[-1]
    np.testing.assert_array_equal(Project.open(tmp_path / "p").labels(ref.id), saved)
    assert not list((tmp_path / "p").rglob(".tmp-*"))  # the failed temp file was removed
    monkeypatch.undo()
    assert project.flush(10)  # retried: nothing was lost
    np.testing.assert_array_equal(Project.open(tmp_path / "p").labels(ref.id), labels)
    project.close()


def test_damage_is_reported_and_leftovers_are_cleaned(tmp_path):
    project = Project.create(tmp_path / "p", autosave_delay=0.0)
    ref = project.add_image("img.tif", axes="ZYX")
    labels = labelled_stack()
    project.attach_labels(ref.id, labels)
    project.log("paint", label=4)
    project.close()
    store = tmp_path / "p" / "images" / ref.id / "labels"
    (store / "g000001" / ".tmp-abc.npy.zst").write_bytes(b"half a chunk")  # killed mid-write
    (store / "g000002").mkdir()  # killed before switching generation
    (store / "g000002" / "0.0.0.npy.zst").write_bytes(b"junk")
    (store / "g000001" / "3.0.0.npy.zst").write_bytes(b"bit rot")  # damaged after the fact
    with open(tmp_path / "p" / "history.jsonl", "a") as history:
        history.write('{"action": "cut off')  # a kill in the middle of a line
    reopened = Project.open(tmp_path / "p")
    restored = reopened.labels(ref.id)
    expected = labels.copy()
    expected[3] = 0
    np.testing.assert_array_equal(restored, expected)
    assert len(reopened.problems) == 1 and "3.0.0.npy.zst" in reopened.problems[0]
    assert not (store / "g000001" / ".tmp-abc.npy.zst").exists()
    reopened.log("after the kill")
    reopened.close()
    actions = [e["action"] for e in Project.open(tmp_path / "p").history()]
    assert actions[-2:] == ["paint", "after the kill"]
    ChunkStore(store).remove_unused_generations()
    assert not (store / "g000002").exists()


EDITOR = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from unet_studio.app.label_edit import edit_from_region
    from unet_studio.app.project import Project

    project = Project.create(sys.argv[1], autosave_delay=float(sys.argv[2]))
    ref = project.add_image("stack.tif", axes="ZYX")
    labels = np.zeros((4, 256, 256), np.uint16)
    project.attach_labels(ref.id, labels)
    reviewed = project.reviewed(ref.id, labels.shape)
    for i in range(1, 1025):  # box i: plane i % 4, cell (i // 4) of a 16x16 grid
        z, cell = i % 4, i // 4
        region = (z, slice(16 * (cell // 16), 16 * (cell // 16) + 12),
                  slice(16 * (cell % 16), 16 * (cell % 16) + 12))
        edit = edit_from_region(labels, region, np.full((12, 12), i, np.uint16))
        edit.apply_to(labels)
        reviewed.record_edit(edit)
        project.record_edit(ref.id, edit)
        print(i, time.time(), flush=True)
        time.sleep(0.005)
    """
)


def box_of(i: int):
    z, cell = i % 4, i // 4
    row, col = 16 * (cell // 16), 16 * (cell % 16)
    return z, slice(row, row + 12), slice(col, col + 12)


@pytest.mark.slow
def test_killed_editor_loses_nothing_older_than_the_autosave_delay(tmp_path):
    delay, margin = 0.3, 1.0
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    editor = subprocess.Popen([sys.executable, str(script), str(tmp_path / "p"), str(delay)],
                              stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
    edits = []  # (edit number, time it was made)
    for line in editor.stdout:  # edit for ~2.5 s after the first edit, then kill
        edits.append(tuple(map(float, line.split())))
        if edits[-1][1] - edits[0][1] > 2.5:
            break
    editor.send_signal(signal.SIGKILL)
    killed_at = time.time()
    rest, _ = editor.communicate()
    edits += [tuple(map(float, line.split())) for line in rest.splitlines()]
    assert editor.returncode == -signal.SIGKILL

    project = Project.open(tmp_path / "p")
    labels = project.labels(project.images[0].id)
    reviewed = project.reviewed(project.images[0].id)
    old_enough = [int(i) for i, stamp in edits if stamp < killed_at - delay - margin]
    assert len(old_enough) > 20
    for i in old_enough:
        assert (labels[box_of(i)] == i).all(), f"edit {i} was lost"
        assert reviewed.changed[box_of(i)].all()
    for i in range(1, int(edits[-1][0]) + 1 if edits else 1):
        values = np.unique(labels[box_of(i)])
        assert set(values) <= {0, i}  # every box all or nothing, never torn
    project.close()


@pytest.mark.slow
def test_autosave_of_a_small_edit_to_a_big_stack_returns_at_once(tmp_path):
    project = Project.create(tmp_path / "p", autosave_delay=0.2)
    ref = project.add_image("big.tif", axes="ZYX")
    labels = np.zeros((64, 1024, 1024), np.uint32)
    project.attach_labels(ref.id, labels)
    assert project.flush(60)
    timings = []
    for i in range(1, 21):
        region = (i, slice(100, 120), slice(500 + i, 530 + i))  # a brush stroke
        edit = edit_from_region(labels, region, np.full((20, 30), i, np.uint32))
        edit.apply_to(labels)
        start = time.perf_counter()
        project.record_edit(ref.id, edit)
        timings.append(time.perf_counter() - start)
    project.close()
    assert np.median(timings) < 0.050, f"median {np.median(timings) * 1e3:.1f} ms"
    manifest = json.loads((tmp_path / "p/images" / ref.id / "labels/array.json").read_text())
    assert manifest["shape"] == [64, 1024, 1024]
    restored = Project.open(tmp_path / "p").labels(ref.id)
    assert restored[20, 110, 525] == 20 and (restored != 0).sum() == (labels != 0).sum()


def test_autosave_writer_debounces_replaces_and_gives_up_on_close():
    from unet_studio.app.autosave import AutosaveWriter

    written = []
    writer = AutosaveWriter(delay=0.3)
    start = time.monotonic()
    for i in range(5):  # five quick changes of one thing: one write, of the last one
        writer.submit("labels", lambda i=i: written.append((i, time.monotonic() - start)))
    time.sleep(0.1)
    assert written == []  # still inside the debounce window
    assert writer.flush(5)
    assert [i for i, _ in written] == [4]

    def broken():
        raise OSError("disk gone")

    writer.submit("other", broken)
    assert not writer.flush(5) and "disk gone" in writer.errors[-1]
    t0 = time.monotonic()
    writer.close(timeout=5)  # does not spin or hang on a write that keeps failing
    assert time.monotonic() - t0 < 5 and not writer._thread.is_alive()


def test_images_are_found_by_name_and_file_and_follow_a_rename(tmp_path):
    """An image is found by its layer name, from the same file when both are known (two
    files may give layers of one name); a rename is saved and logged, and the corrections
    stay under the same image id."""
    with Project.create(tmp_path / "p") as project:
        a = project.add_image(tmp_path / "a.tif", axes="YX", name="cells")
        project.attach_labels(a.id, np.arange(16, dtype=np.int32).reshape(4, 4))
        assert project.find_image("cells", str(tmp_path / "a.tif")) == a
        assert project.find_image("cells") == a
        assert project.find_image("cells", str(tmp_path / "b.tif")) is None
        project.rename_image(a.id, "nuclei")
        assert project.find_image("cells") is None
    with Project.open(tmp_path / "p") as again:
        ref = again.find_image("nuclei", str(tmp_path / "a.tif"))
        assert ref.id == a.id
        np.testing.assert_array_equal(again.labels(ref.id), np.arange(16).reshape(4, 4))
        assert any(e["action"] == "rename image" and e["new"] == "nuclei" for e in again.history())


def test_a_big_arrays_complete_save_reads_chunks_when_writing(tmp_path, monkeypatch):
    """Above LAZY_SNAPSHOT_BYTES a complete save copies no chunk at the call (a stack is not
    held twice); each chunk is read as it is written, and a change made meanwhile is saved
    by its own edit, so the saved labels end equal to the live ones."""
    from unet_studio.app import project_arrays

    monkeypatch.setattr(project_arrays, "LAZY_SNAPSHOT_BYTES", 1000)
    live = np.zeros((3, 600, 40), np.int32)
    live[:, 100:200, 10:20] = 5
    with Project.create(tmp_path / "p", autosave_delay=60) as project:
        ref = project.add_image(tmp_path / "a.tif", axes="ZYX")
        project.attach_labels(ref.id, live)
        pending = project._saver("labels", ref.id)._pending
        assert pending.complete and all(callable(block) for block in pending.blocks.values())
        edit = edit_from_region(live, (slice(1, 2), slice(550, 560), slice(0, 5)), 9)
        edit.apply_to(live)
        project.record_edit(ref.id, edit)
    with Project.open(tmp_path / "p") as again:
        np.testing.assert_array_equal(again.labels(ref.id), live)


def test_the_current_model_is_on_disk_when_set_not_a_second_later(tmp_path):
    """An Accept's history line is on disk at once (``DURABLE``): the project.json that
    names the accepted model must be too, or a kill within the autosave's delay brought the
    project back with the old model and a history saying the round was accepted."""
    import json

    project = Project.create(tmp_path / "p", autosave_delay=30.0)  # (the queued write waits)
    try:
        project.set_current_model("project:round-1", identity="ab" * 32)
        saved = json.loads((tmp_path / "p" / "project.json").read_text("utf-8"))
        assert saved["current_model"] == "project:round-1"
    finally:
        project.close()


def test_recording_the_identity_of_the_same_model_is_no_change_in_the_history(tmp_path):
    """A project of an older version named its model without its identity: reopened, the
    identity is recorded, and the history told of a "set current model" that changed
    nothing (QA with older builds)."""
    project = Project.create(tmp_path / "p")
    try:
        project.set_current_model("project:round-1")  # (as an older version recorded it)
        project.flush(10)
        before = len(project.history())
        project.set_current_model("project:round-1", identity="ab" * 32)
        project.flush(10)
        assert len(project.history()) == before and project.current_model_identity == "ab" * 32
        project.set_current_model("project:round-2", identity="cd" * 32)  # (a change: told)
        project.flush(10)
        assert project.history()[-1]["action"] == "set current model"
        assert project.history()[-1]["model"] == "project:round-2"
    finally:
        project.close()
