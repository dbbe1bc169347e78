"""One settings dialect for ``debinn fit --config`` and the study's TOML files."""

from __future__ import annotations

import pytest

from debinn_jax.cli import main
from debinn_jax.settings import none_values, setting_value, with_shared_loss


def test_none_and_lists():
    assert setting_value({"a": "none", "b": [1, [2, "None"]], "c": "x"}) == {
        "a": None,
        "b": (1, (2, None)),
        "c": "x",
    }
    assert none_values({"b": [1, "none"]}) == {"b": [1, None]}  # lists kept for messages


def test_shared_loss_goes_to_both_trainers_and_their_own_keys_win():
    out = with_shared_loss({"loss": {"alpha": 0.8, "l2": 0.1}, "ga": {"loss": {"alpha": 1.0}}})
    assert out == {
        "ga": {"loss": {"alpha": 1.0, "l2": 0.1}},
        "gd": {"loss": {"alpha": 0.8, "l2": 0.1}},
    }


def test_fit_reads_the_study_dialect(tmp_path, capsys):
    # a top-level [loss] and "none", as the study configs write them
    config = tmp_path / "c.toml"
    config.write_text(
        '[network]\nhidden = [4]\nnormalization = "none"\n\n[loss]\nalpha = 0.8\n\n'
        '[ga]\npopulation_size = 8\ngenerations = 6\nearly_stopping = "none"\nchunk = 6\n'
    )
    out = tmp_path / "m.debinn"
    code = main(["fit", "--data", "moons", "--config", str(config), "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    from debinn_jax.io import load_model

    model = load_model(out)
    trained_with = model.metadata["trainer_config"]
    assert trained_with["loss"]["alpha"] == 0.8
    assert trained_with["early_stopping"] is None
    assert model.spec.normalization == "none" and model.spec.hidden == (4,)


def test_unknown_keys_stay_errors(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text("[loss]\nalpah = 0.8\n")
    code = main(["fit", "--data", "moons", "--config", str(config), "--out", str(tmp_path / "m")])
    assert code == 2
    assert "alpah" in capsys.readouterr().err


@pytest.mark.parametrize("value", ['"none"', '"balanced"'])
def test_study_baseline_class_weight_none(tmp_path, value):
    from debinn_jax import study

    p = tmp_path / "syn.toml"
    p.write_text(
        '[task]\nname = "syn"\ntitle = "Syn"\nkind = "moons"\n\n'
        f"[network]\ncandidates = {{ one = [4] }}\n\n[baselines]\nclass_weight = {value}\n"
    )
    assert study.load_study_config(p).baselines.class_weight == value.strip('"')
