"""The ctxapi command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ctxapi.cli import DEMO_DIR, cli
from ctxapi.config import PROJECT_ROOT, ConfigError, Settings, from_env
from ctxapi.db import Database
from tests.conftest import clear_graph, neo4j_env
from tests.seeding import seed_load


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


def test_explain_prints_the_cypher_and_with_profile_what_it_cost(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    # given the demo stories in the test database
    clear_graph(db)
    seed_load(settings, tmp_path, DEMO_DIR)
    env = neo4j_env(settings) | {"CTXAPI_NOW": "2026-11-23T12:00:00Z"}
    headline = str(PROJECT_ROOT / "schema" / "queries" / "customer_context.graphql")
    variables = '{"email": "sofia.marquez@example.com", "withInsights": true}'
    # when
    plain = CliRunner().invoke(cli, ["explain", headline, "--variables", variables], env=env)
    profiled = CliRunner().invoke(
        cli, ["explain", headline, "--variables", variables, "--profile"], env=env
    )
    # then the text is the compiler's, with its parameters, and the profile counts real work
    assert plain.exit_code == 0, plain.output
    assert plain.output.startswith("// customerBy: customerBy (")
    assert "MATCH (:Identity {kind: $kind, value: $key})-[:IDENTIFIES]->(root:Customer)" in (
        plain.output
    )
    assert '"key": "sofia.marquez@example.com"' in plain.output
    assert "PROFILE" not in plain.output
    assert profiled.exit_code == 0, profiled.output
    [totals] = re.findall(r"// PROFILE: (\d+) row\(s\), ([\d,]+) db hits", profiled.output)
    assert totals[0] == "1"
    assert int(totals[1].replace(",", "")) > 100
    assert "NodeIndexSeek" in profiled.output or "NodeUniqueIndexSeek" in profiled.output


def test_explain_refuses_a_wrong_document_in_one_line(tmp_path: Path) -> None:
    # given a document that does not validate, and one with bad variables
    wrong = tmp_path / "wrong.graphql"
    wrong.write_text("{ customer(id: 1) { shoeSize } }")
    fine = tmp_path / "fine.graphql"
    fine.write_text("query($id: ID!) { customer(id: $id) { name } }")
    # when
    unknown = CliRunner().invoke(cli, ["explain", str(wrong)])
    missing = CliRunner().invoke(cli, ["explain", str(fine)])
    not_json = CliRunner().invoke(cli, ["explain", str(fine), "--variables", "{id"])
    # then
    assert unknown.exit_code == 1
    assert "Cannot query field 'shoeSize' on type 'Customer'" in unknown.output
    assert missing.exit_code == 1
    assert "Variable '$id' of required type 'ID!' was not provided" in missing.output
    assert not_json.exit_code == 2
    assert "--variables" in not_json.output
    assert "Traceback" not in unknown.output + missing.output + not_json.output
