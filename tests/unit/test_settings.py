from __future__ import annotations

import os
from pathlib import Path

import pytest

from gnn_neo4j.settings import Secret, SettingsError, load_settings, read_secret_file, write_secret_file


def test_precedence_defaults_file_env_flags(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[gnn_neo4j]\nheap_size = "2g"\nbolt_port = 7000\nneo4j_database = "fromfile"\n')
    env = {"GNN_NEO4J_BOLT_PORT": "7100", "NEO4J_DATABASE": "fromenv"}
    settings = load_settings(config_file=config, env=env, data_dir=tmp_path, neo4j_database="fromflag")
    assert settings.heap_size == "2g"  # file beats default
    assert settings.bolt_port == 7100  # env beats file
    assert settings.neo4j_database == "fromflag"  # flag beats env
    assert settings.neo4j_uri == "bolt://127.0.0.1:7100"  # local URI follows the port
    assert settings.uses_local_server


def test_defaults_without_anything(tmp_path: Path):
    settings = load_settings(env={}, data_dir=tmp_path)
    assert settings.neo4j_uri == "bolt://127.0.0.1:7687"
    assert settings.tracking_uri == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert settings.optuna_storage_url == f"sqlite:///{tmp_path / 'optuna.db'}"


def test_secret_never_shows(tmp_path: Path):
    settings = load_settings(env={"NEO4J_PASSWORD": "hunter2-secret"}, data_dir=tmp_path)
    assert settings.password() == "hunter2-secret"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.describe())
    assert repr(Secret("x")) == "Secret('***')"


def test_password_not_allowed_in_config_file_or_flag(tmp_path: Path):
    config = tmp_path / "c.toml"
    config.write_text('neo4j_password = "oops"\n')
    with pytest.raises(SettingsError, match="may not be set in a config file"):
        load_settings(config_file=config, env={}, data_dir=tmp_path)
    with pytest.raises(SettingsError, match="never taken from a flag"):
        load_settings(env={}, data_dir=tmp_path, neo4j_password="oops")


def test_password_file_must_be_private(tmp_path: Path):
    secret = tmp_path / "pw"
    write_secret_file(secret, "s3cret-value")
    assert oct(secret.stat().st_mode & 0o777) == "0o600"
    assert load_settings(env={"NEO4J_PASSWORD_FILE": str(secret)}, data_dir=tmp_path).password() == "s3cret-value"
    os.chmod(secret, 0o644)
    with pytest.raises(SettingsError, match="readable by others"):
        read_secret_file(secret)


def test_missing_password_is_a_clear_error(tmp_path: Path):
    with pytest.raises(SettingsError, match="no Neo4j password"):
        load_settings(env={}, data_dir=tmp_path).password()


@pytest.mark.parametrize("env", [{"NEO4J_URI": "http://x:7474"}, {"GNN_NEO4J_BOLT_PORT": "70000"}, {"GNN_NEO4J_BOLT_PORT": "abc"}])
def test_invalid_values_rejected(tmp_path: Path, env):
    with pytest.raises(SettingsError):
        load_settings(env=env, data_dir=tmp_path)


def test_unknown_config_key_rejected(tmp_path: Path):
    config = tmp_path / "c.toml"
    config.write_text("bogus = 1\n")
    with pytest.raises(SettingsError, match="unknown setting"):
        load_settings(config_file=config, env={}, data_dir=tmp_path)
