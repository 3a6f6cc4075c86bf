"""The ctxapi command line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ctxapi.cli import cli
from ctxapi.config import ConfigError, Settings, from_env


def test_help_lists_the_commands() -> None:
    # when
    result = CliRunner().invoke(cli, ["--help"])
    # then
    assert result.exit_code == 0
    for command in ("neo4j", "schema", "serve", "run", "wait"):
        assert command in result.output


def test_schema_apply_against_a_given_server(settings: Settings, db: object) -> None:
    # given
    env = {"NEO4J_URI": settings.neo4j_uri, "NEO4J_PASSWORD": settings.neo4j_password}
    # when
    result = CliRunner().invoke(cli, ["schema", "apply"], env=env)
    # then
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "The graph schema is up to date."


def test_an_unreachable_server_is_one_clear_line() -> None:
    # given: a port where nothing listens
    env = {"NEO4J_URI": "neo4j://127.0.0.1:1", "NEO4J_PASSWORD": "x"}
    # when
    result = CliRunner().invoke(cli, ["wait", "--timeout", "0"], env=env)
    # then
    assert result.exit_code == 1
    assert result.output.startswith("Error: Neo4j is not reachable at neo4j://127.0.0.1:1")
    assert "Traceback" not in result.output


def test_settings_come_from_the_environment() -> None:
    # when
    settings = from_env(
        {"NEO4J_URI": "neo4j://db:7687", "PORT": "9000", "CTXAPI_DEBUG": "yes", "NEO4J_USER": "u"}
    )
    # then
    assert settings.neo4j_uri == "neo4j://db:7687"
    assert settings.port == 9000
    assert settings.debug is True
    assert settings.neo4j_user == "u"
    assert not settings.uses_local_neo4j


def test_a_bad_setting_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="PORT='eighty' is not valid"):
        from_env({"PORT": "eighty"})
    result = CliRunner().invoke(cli, ["neo4j", "status"], env={"CTXAPI_NEO4J_PORT": "x"})
    assert result.exit_code == 1
    assert "CTXAPI_NEO4J_PORT='x' is not valid" in result.output


def test_without_neo4j_uri_the_local_instance_is_used(tmp_path: object) -> None:
    # when
    settings = Settings(home=tmp_path, local_port=7777).resolved()  # type: ignore[arg-type]
    # then
    assert settings.neo4j_uri == "neo4j://127.0.0.1:7777"
