"""``unet-studio finetune`` as a run: --new builds the network asked for; one run at a time
writes an -o folder; Ctrl-C says how to resume and a resumed run says where it resumes; the
end says which step's weights were saved and the config records the device used."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest
import tifffile

FAST = ("--max-steps", "4", "--patch-size", "32", "--batch-size", "2")


@pytest.fixture
def crop(tmp_path, test_data_dir, monkeypatch):
    """(image, labels) files of a 64x64 crop, and a home that is not the user's."""
    monkeypatch.setenv("UNET_STUDIO_HOME", str(tmp_path / "home"))
    image = tifffile.imread(test_data_dir / "train_img.tif")[0, :64, :64]
    labels = tifffile.imread(test_data_dir / "train_labels.tif")[0, :64, :64]
    tifffile.imwrite(tmp_path / "img.tif", image)
    tifffile.imwrite(tmp_path / "lab.tif", labels)
    return tmp_path / "img.tif", tmp_path / "lab.tif"


@pytest.mark.slow
def test_new_trains_the_network_asked_for_and_the_flags_need_it(run_finetune,
        tmp_path, tiny_volume, model_dir, capsys):
    data = ("--image", tiny_volume[0], "--labels", tiny_volume[1])
    for extra, said in ((("--spatial-dims", "3"), "--spatial-dims describes the network --new "
                                                  "builds: add --new"),
                        (("--new", "--model", model_dir), "--new trains a new network")):
        code, _, err = run_finetune(*data, *extra, "-o", tmp_path / "out", *FAST)
        assert code == 2 and err.count("\n") == 1 and said in err, err
    code, _, err = run_finetune(*data, "--new", "--spatial-dims", "3", "--architecture",
                             "residual_unet", "-o", tmp_path / "out", *FAST, "--device", "cpu")
    assert code == 0, err
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["architecture"]["name"] == "residual_unet"
    assert config["architecture"]["spatial_dims"] == 3 and config["metadata"]["parent"] is None


def test_a_second_run_on_one_output_folder_is_refused_while_the_first_runs(run_finetune,
        tmp_path, crop, model_dir, capsys):
    image, labels = crop
    out = tmp_path / "round"
    out.mkdir()
    other = subprocess.Popen(["sleep", "60"])  # (stands for the first run's process)
    try:
        (out / ".finetune.lock").write_text(json.dumps({"pid": other.pid,
                                                        "host": socket.gethostname()}))
        code, _, err = run_finetune("--image", image, "--labels", labels, "--model",
                                 model_dir, "-o", out, *FAST, "--device", "cpu")
        assert code == 2 and err.count("\n") == 1, err
        assert f"{out}: another finetune (process {other.pid}) is writing a model there" in err
        assert not (out / "config.json").exists() and (out / ".finetune.lock").exists()
    finally:
        other.kill()
        other.wait()
    # Its process gone (killed), the lock is stale: taken over, and gone after the run.
    code, _, err = run_finetune("--image", image, "--labels", labels, "--model",
                             model_dir, "-o", out, *FAST, "--device", "cpu")
    assert code == 0, err
    assert (out / "config.json").exists() and not (out / ".finetune.lock").exists()


def test_a_model_written_meanwhile_is_not_replaced(run_finetune, tmp_path, crop, model_dir, capsys,
                                                   monkeypatch):
    from unet_studio.app.commands import finetune as command

    image, labels = crop
    out = tmp_path / "round"
    train = command.train

    def another_program_saves_there(*args, **kwargs):
        result = train(*args, **kwargs)
        (out / "config.json").write_text("{}")
        return result

    monkeypatch.setattr(command, "train", another_program_saves_there)
    code, _, err = run_finetune("--image", image, "--labels", labels, "--model",
                             model_dir, "-o", out, *FAST, "--device", "cpu")
    assert code == 2 and f"{out}: a model appeared there while this run trained" in err, err
    assert (out / "config.json").read_text() == "{}"  # kept
    assert (out / ".checkpoints" / "last.safetensors").exists()  # and the run's weights


@pytest.mark.slow
def test_ctrl_c_says_how_to_resume_and_the_rerun_where_it_resumes(run_finetune,
        tmp_path, crop, model_dir, capsys, monkeypatch):
    from unet_studio.models.devices import resolve_device
    from unet_studio.models.training.session import Session

    image, labels = crop
    out = tmp_path / "round"
    args = ("--image", image, "--labels", labels, "--model", model_dir, "-o", out, *FAST,
            "--device", "auto")
    step = Session.train_step

    def ctrl_c_at_step_3(session, lr):
        if session.step == 2:
            raise KeyboardInterrupt
        return step(session, lr)

    monkeypatch.setattr(Session, "train_step", ctrl_c_at_step_3)
    code, _, err = run_finetune(*args)
    assert code == 130
    assert err.strip().splitlines()[-2:] == [
        f"unet-studio: a checkpoint at step 2 is kept in {out / '.checkpoints'}: run the same "
        "command again to resume it", "unet-studio: interrupted"]
    monkeypatch.setattr(Session, "train_step", step)
    code, out_text, err = run_finetune(*args)
    assert code == 0, err
    assert err.splitlines()[0] == "resuming at step 2 of 4"
    config = json.loads((out / "config.json").read_text())
    best = config["metadata"]["finetune"]["best_step"]
    said = {0: "saved the starting weights: no step beat them on the held-out data",
            4: "saved the weights of the last step, 4, the best held-out step"}
    assert said.get(best, f"saved the weights of the best held-out step, {best} of 4") \
        in out_text.splitlines()
    assert config["metadata"]["finetune"]["config"]["device"] == str(resolve_device("auto"))


def test_the_device_error_names_the_flag_as_predict_does(run_finetune, tmp_path, crop, capsys):
    image, labels = crop
    code, _, err = run_finetune("--image", image, "--labels", labels, "-o",
                             tmp_path / "out", "--device", "cuda:99", "--max-steps", "1")
    assert code == 2 and err.startswith("unet-studio: error: --device: device 'cuda:99'"), err
    assert not (tmp_path / "out").exists()


def test_the_library_names_unfinished_runs_and_broken_models(tmp_path, model_dir):
    import shutil

    from unet_studio.app.errors import UserError
    from unet_studio.app.model_library import ModelLibrary

    models = tmp_path / "home" / "models"
    for name in ("good", "badjson", "trunc"):
        shutil.copytree(model_dir, models / name)
    (models / "badjson" / "config.json").write_text('{"format": ')
    weights = models / "trunc" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    (tmp_path / "unfinished" / ".checkpoints").mkdir(parents=True)
    library = ModelLibrary(home=tmp_path / "home", bundled_dir=tmp_path / "none")
    with pytest.raises(UserError) as unfinished:
        library.get(str(tmp_path / "unfinished"))
    assert str(unfinished.value) == (f"unfinished fine-tuning run in {tmp_path / 'unfinished'}: "
                                     "run the same finetune again to finish it")
    with pytest.raises(UserError) as missing:
        library.get("nope")
    assert str(missing.value) == (
        "no model 'nope'; choose one of: user:good; not usable: user:trunc (model.safetensors "
        "is truncated or damaged), user:badjson (config.json is not valid JSON); or a "
        "project's model by its folder: PROJECT/models/NAME")  # (QA: one named, not found)


def test_a_fallen_held_out_score_is_warned_of():
    """The saved weights are the lowest held-out loss's; where they score fewer objects
    right than the starting ones, the command says so (F1 0.727 -> 0.353 went unsaid)."""
    from types import SimpleNamespace

    from unet_studio.app.commands.finetune_report import score_fell_text

    def result(before, after):
        return SimpleNamespace(metrics_before={"val_metric": before, "n_true": 12},
                               metrics_after={"val_metric": after, "n_true": 12})

    assert "held-out score fell (0.727 -> 0.353)" in score_fell_text(result(0.727, 0.353))
    assert score_fell_text(result(0.727, 0.8)) == ""
    assert score_fell_text(result(0.7, 0.7)) == ""
