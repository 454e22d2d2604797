"""``unet-studio finetune`` and ``unet-studio evaluate`` as the user runs them: subprocesses."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tifffile


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "unet_studio", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin",
                               "UNET_STUDIO_HOME": str(cwd or ".")})


@pytest.fixture
def tiny_model(tmp_path):
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    return save_model(build_model("unet", base_channels=4, depth=2), tmp_path / "tiny")


@pytest.mark.slow
def test_finetune_saves_a_loadable_model_with_lineage(tmp_path, tiny_model, test_data_dir):
    reviewed = np.zeros((2, 160, 160), dtype=np.uint8)
    reviewed[0, :, :120] = 1  # frame 0 mostly reviewed, frame 1 not at all
    tifffile.imwrite(tmp_path / "reviewed.tif", reviewed, metadata={"axes": "TYX"})
    frame = tifffile.imread(test_data_dir / "train_img.tif")[1, :64, :80]  # a second, 2D image
    frame_labels = tifffile.imread(test_data_dir / "train_labels.tif")[1, :64, :80]
    tifffile.imwrite(tmp_path / "frame.tif", frame)
    tifffile.imwrite(tmp_path / "frame_labels.tif", frame_labels)
    tifffile.imwrite(tmp_path / "frame_reviewed.tif", np.ones((64, 80), np.uint8))
    out = tmp_path / "round-1"
    result = _cli("finetune", "--image", test_data_dir / "train_img.tif",
                  "--labels", test_data_dir / "train_labels.tif",
                  "--reviewed", tmp_path / "reviewed.tif", "--image", tmp_path / "frame.tif",
                  "--labels", tmp_path / "frame_labels.tif", "--reviewed",
                  tmp_path / "frame_reviewed.tif", "--model", tiny_model, "-o", out,
                  "--max-steps", 6, "--patch-size", 64, "--batch-size", 2, "--device", "cpu",
                  "--train-layers", "decoder", "--norm-statistics", "freeze", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # (its last line says where the model went: fine-tuned, or the starting weights kept
    # when none of the 6 steps beat them on the held-out data)
    last = result.stdout.splitlines()[-1]
    assert last in (f"saved fine-tuned model to {out}", f"saved the model to {out}: the "
                    "starting weights, unchanged (the Train panel makes no model of such a round)")
    assert "f1_50" in result.stdout and "step 6" in result.stderr
    from unet_studio.models.weights import load_model

    net = load_model(out)
    meta = net.metadata
    assert meta["parent"]["path"] == str(tiny_model)
    assert meta["training_data"]["summary"]["reviewed_pixels"] == 160 * 120 + 64 * 80
    assert meta["training_data"]["summary"]["examples"] == 2
    assert [f["image"] for f in meta["training_data"]["files"]][1] == str(tmp_path / "frame.tif")
    assert meta["finetune"]["steps"] == 6 and meta["finetune"]["config"]["max_steps"] == 6
    assert meta["finetune"]["config"]["train_layers"] == "decoder"
    assert meta["finetune"]["config"]["norm_statistics"] == "freeze"
    import torch

    base = load_model(tiny_model)  # decoder only: the encoder is the parent's
    for name, value in base.encoder.state_dict().items():
        assert torch.equal(value, net.encoder.state_dict()[name]), name
    assert {"f1_50", "val_loss"} <= set(meta["metrics"]) and meta["date"]
    assert (out / "card.md").read_text().startswith("# round-1")
    assert not (out / ".checkpoints").exists()
    again = _cli("finetune", "--image", test_data_dir / "train_img.tif", "--labels",
                 test_data_dir / "train_labels.tif", "--model", tiny_model, "-o", out,
                 "--max-steps", 1, cwd=tmp_path)
    assert again.returncode == 2 and "already holds a model" in again.stderr


@pytest.mark.slow
def test_finetune_rejects_bad_input_in_one_line(tmp_path, test_data_dir):
    tifffile.imwrite(tmp_path / "small.tif", np.zeros((2, 10, 10), np.uint16),
                     metadata={"axes": "TYX"})
    result = _cli("finetune", "--image", test_data_dir / "train_img.tif",
                  "--labels", tmp_path / "small.tif", "-o", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "has shape (2, 10, 10)" in result.stderr
    missing = _cli("finetune", "--image", tmp_path / "nope.tif", "--labels",
                   tmp_path / "small.tif", "-o", tmp_path / "out", cwd=tmp_path)
    assert missing.returncode == 2 and "nope.tif" in missing.stderr
    unpaired = _cli("finetune", "--image", "a.tif", "--image", "b.tif", "--labels", "a.tif",
                    "-o", tmp_path / "out", cwd=tmp_path)
    assert unpaired.returncode == 2 and "--labels per --image" in unpaired.stderr


@pytest.mark.slow
def test_finetune_names_the_file_with_negative_ids_or_an_empty_mask(tmp_path, test_data_dir):
    """Labels with negative ids (neither background nor an object), a reviewed mask that
    marks nothing, a learning rate of NaN: one line each, naming the file or the setting,
    exit 2, no model folder."""
    labels = tifffile.imread(test_data_dir / "train_labels.tif").astype(np.int32) - 1
    tifffile.imwrite(tmp_path / "negative.tif", labels, metadata={"axes": "TYX"})
    tifffile.imwrite(tmp_path / "nothing.tif", np.zeros(labels.shape, np.uint8),
                     metadata={"axes": "TYX"})
    common = ("finetune", "--image", test_data_dir / "train_img.tif", "-o", tmp_path / "out",
              "--max-steps", 2)
    for extra, said in ((("--labels", tmp_path / "negative.tif"),
                         "negative.tif: holds negative ids (as low as -1)"),
                        (("--labels", test_data_dir / "train_labels.tif",
                          "--reviewed", tmp_path / "nothing.tif"),
                         "nothing.tif: marks no pixel as reviewed"),
                        (("--labels", test_data_dir / "train_labels.tif",
                          "--learning-rate", "nan"), "--learning-rate must be > 0, got nan")):
        result = _cli(*common, *extra, cwd=tmp_path)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert said in result.stderr
        assert not (tmp_path / "out").exists()


def _scene(tmp_path):
    gt = np.zeros((40, 60), dtype=np.uint16)
    pred = np.zeros_like(gt)
    gt[2:12, 2:12], pred[2:12, 2:12] = 1, 9  # exact
    gt[2:12, 20:30], pred[2:12, 22:32] = 2, 4  # IoU 2/3
    gt[20:30, 2:12] = 3  # missed
    pred[20:30, 40:50] = 5  # false positive
    tifffile.imwrite(tmp_path / "pred.tif", pred)
    tifffile.imwrite(tmp_path / "gt.tif", gt)
    return tmp_path / "pred.tif", tmp_path / "gt.tif"


def test_evaluate_prints_the_scores(tmp_path):
    pred, gt = _scene(tmp_path)
    result = _cli("evaluate", pred, gt, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "objects: 3 predicted, 3 true" in result.stdout
    assert "IoU 0.50: F1 0.6667  AP 0.5000" in result.stdout
    assert "IoU 0.75: F1 0.3333  AP 0.2000" in result.stdout
    assert "mean matched IoU (at 0.5): 0.8333" in result.stdout
    as_json = json.loads(_cli("evaluate", pred, gt, "--json", cwd=tmp_path).stdout)
    assert as_json["ap_75"] == pytest.approx(0.2)
    wrong = _cli("evaluate", pred, tmp_path / "missing.tif", cwd=tmp_path)
    assert wrong.returncode == 2 and "missing.tif" in wrong.stderr


def test_max_seconds_is_the_whole_run_as_the_user_waits_for_it(tmp_path, tiny_model,
                                                               test_data_dir, monkeypatch,
                                                               capsys):
    """``--max-seconds 5``: the command, from reading the files to the saved model with its
    before/after scores, takes about 5 s even when reading the data and scoring held-out
    data are slow (as a large model's scoring is on a CPU). Before, the scorings (about 3 s
    each here), the validations and the loading came on top of the 5 s of training."""
    import time

    from unet_studio.app.cli import main
    from unet_studio.app.commands import finetune as command
    from unet_studio.models.training import validate

    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    instance_labels, load_examples = validate._instance_labels, command.load_examples

    def slow_scoring(probabilities, options):
        time.sleep(0.5)
        return instance_labels(probabilities, options)

    def slow_loading(*args, **kwargs):
        time.sleep(1.0)
        return load_examples(*args, **kwargs)

    monkeypatch.setattr(validate, "_instance_labels", slow_scoring)
    monkeypatch.setattr(command, "load_examples", slow_loading)
    budget = 5.0
    start = time.monotonic()
    code = main(["finetune", "--image", str(test_data_dir / "train_img.tif"), "--labels",
                 str(test_data_dir / "train_labels.tif"), "--model", str(tiny_model), "-o",
                 str(tmp_path / "round"), "--max-seconds", str(budget), "--patch-size", "48",
                 "--batch-size", "2", "--device", "cpu"])
    wall = time.monotonic() - start
    out, err = capsys.readouterr()
    assert code == 0 and (tmp_path / "round" / "config.json").exists()
    assert wall <= 1.3 * budget + 2.0, f"a {budget} s run took {wall:.1f} s"
    assert "(the time budget was used up)" in out and "f1_50" in out
    assert "(100%, " in err.strip().splitlines()[-1] and "s left)" in err
