"""One settings dialect for ``debinn fit --config`` and the study's TOML files."""

from __future__ import annotations

import re

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


# --------------------------------------------------------------------------- one checker

STUDY = (
    '[task]\nname = "syn"\ntitle = "Syn"\nkind = "moons"\n\n[network]\ncandidates = { one = [4] }\n'
)


def test_check_setting_keys_names_the_key_and_what_was_expected():
    from debinn_jax.loss import LossConfig
    from debinn_jax.settings import check_setting_keys, setting_names

    allowed = setting_names(LossConfig)
    check_setting_keys("[loss]", {"alpha": 0.8}, allowed)
    with pytest.raises(ValueError) as info:
        check_setting_keys("[loss]", {"alpha": 0.8, "alpah": 0.8}, allowed)
    assert str(info.value) == (
        f"unknown [loss] setting 'alpah' (did you mean 'alpha'?); expected {', '.join(allowed)}"
    )
    with pytest.raises(ValueError, match=r"^unknown section 'x'; expected a, b$"):
        check_setting_keys("", {"x": {}}, ("a", "b"), kind="section")


def test_check_setting_types_reads_none_as_the_settings_files_write_it():
    from debinn_jax.gd import GDConfig
    from debinn_jax.settings import check_setting_types

    # "none" means no value: fine where a field takes None (patience) or a string (optimizer)
    check_setting_types(
        "[gd]", {"patience": "none", "optimizer": "none"}, GDConfig, none_strings=True
    )
    check_setting_types("gd", {"patience": None, "epochs": 3, "learning_rate": 1}, GDConfig)
    with pytest.raises(ValueError, match=r"\[gd\] setting 'epochs' must be an integer, got 'none'"):
        check_setting_types("[gd]", {"epochs": "none"}, GDConfig, none_strings=True)
    with pytest.raises(ValueError, match=r"^gd setting 'patience' must be an integer, got 'none'"):
        check_setting_types("gd", {"patience": "none"}, GDConfig)  # the library: a string


def test_one_checker_for_the_estimator_fit_config_and_the_study(tmp_path, capsys):
    from debinn_jax import study
    from debinn_jax.estimator import trainer_config

    phrase = "setting 'generations' must be an integer, got '6' (a string)"
    with pytest.raises(ValueError, match=re.escape(f"ga {phrase}")):
        trainer_config("ga", {"generations": "6"})
    config = tmp_path / "c.toml"
    config.write_text('[ga]\ngenerations = "6"\n')
    code = main(["fit", "--data", "moons", "--config", str(config), "--out", str(tmp_path / "m")])
    assert code == 2
    assert f"debinn fit: error: config file {config}: [ga] {phrase}" in capsys.readouterr().err
    path = tmp_path / "syn.toml"
    path.write_text(STUDY + '\n[ga]\ngenerations = "6"\n')
    with pytest.raises(study.ConfigError, match=re.escape(f"{path}: [ga] {phrase}")):
        study.load_study_config(path)
    # the [quick] table is checked as written, before it is applied
    path.write_text(STUDY + '\n[quick.ga]\ngenerations = "6"\n')
    with pytest.raises(study.ConfigError, match=re.escape(f"{path}: [quick.ga] {phrase}")):
        study.load_study_config(path)
    path.write_text(STUDY + "\n[quick.paper]\nnote = 'x'\n")
    with pytest.raises(
        study.ConfigError, match=r"unknown \[quick\] section 'paper'; expected task"
    ):
        study.load_study_config(path, quick=True)


def test_model_files_read_their_network_spec_with_the_same_checks(tmp_path):
    import json
    import zipfile

    import jax

    from debinn_jax.io import MANIFEST, ModelFileError, TrainedModel, load_model, save_model
    from debinn_jax.network import NetworkSpec, init_coords

    spec = NetworkSpec(2, (3,), 2, groups=(1,))
    model = TrainedModel(spec, init_coords(jax.random.key(0), spec), classes=[0, 1])
    good = save_model(tmp_path / "good.debinn", model)
    assert load_model(good).spec == spec  # lists in the JSON are tuples again

    def with_spec(name: str, **changes) -> str:
        with zipfile.ZipFile(good) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        manifest = json.loads(members[MANIFEST])
        manifest["spec"] |= changes
        members[MANIFEST] = json.dumps(manifest).encode()
        with zipfile.ZipFile(tmp_path / name, "w") as zf:
            for n, data in members.items():
                zf.writestr(n, data)
        return str(tmp_path / name)

    with pytest.raises(ModelFileError, match=r"invalid network spec: unknown field 'kernal'"):
        load_model(with_spec("key.debinn", kernal="gaussian"))
    with pytest.raises(ModelFileError, match=r"spec: setting 'temperature' must be a number"):
        load_model(with_spec("type.debinn", temperature="2"))
