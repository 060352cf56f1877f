"""`gnn-neo4j doctor`, `cypher`, `db init|verify` against the real server, through the click entry point."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from gnn_neo4j.cli import main

pytestmark = pytest.mark.neo4j


def test_doctor_all_green(cli_env, runner):
    result = CliRunner().invoke(main, ["doctor", "--json"], env=cli_env)
    checks = {c["name"]: c for c in json.loads(result.output)}
    assert result.exit_code == 0, [c for c in checks.values() if not c["ok"]]
    assert checks["gds.version()"]["detail"].startswith("2.13.")
    assert checks["apoc.version()"]["detail"].startswith("5.26.")


def test_doctor_fails_when_server_unreachable(cli_env, tmp_path):
    env = {**cli_env, "NEO4J_URI": "bolt://127.0.0.1:1", "NEO4J_PASSWORD": "irrelevant-secret"}
    result = CliRunner().invoke(main, ["doctor"], env=env)
    assert result.exit_code == 1
    assert "not reachable" in result.output
    assert "irrelevant-secret" not in result.output


def test_cypher_command_with_params_and_json(cli_env, runner):
    runner.write("CREATE (:Asset {id: 'h1', name: 'web-1'})")
    result = CliRunner().invoke(
        main, ["cypher", "MATCH (a:Asset {id: $id}) RETURN a.name AS name, $n + 1 AS n", "-p", "id=h1", "-p", "n=41", "--json"],
        env=cli_env,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"name": "web-1", "n": 42}


def test_cypher_command_reports_syntax_error(cli_env, runner):
    result = CliRunner().invoke(main, ["cypher", "MATCH (n RETURN n"], env=cli_env)
    assert result.exit_code == 1
    assert "SyntaxError" in result.output


def test_db_init_is_idempotent_and_verify_reports_missing(cli_env, runner):
    first = CliRunner().invoke(main, ["db", "init"], env=cli_env)
    second = CliRunner().invoke(main, ["db", "init"], env=cli_env)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert CliRunner().invoke(main, ["db", "verify"], env=cli_env).exit_code == 0
    runner.write("DROP INDEX asset_gnn_risk")
    result = CliRunner().invoke(main, ["db", "verify"], env=cli_env)
    assert result.exit_code == 1
    assert "missing index asset_gnn_risk" in result.output
    runner.write("CREATE INDEX asset_gnn_risk IF NOT EXISTS FOR (n:Asset) ON (n.gnn_risk)")


def test_password_flag_is_not_accepted(cli_env):
    result = CliRunner().invoke(main, ["--password", "x", "doctor"], env=cli_env)
    assert result.exit_code == 2
