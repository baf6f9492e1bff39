"""deploy/compose.yaml: valid by the Compose specification, and the same topology the test runs."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.topology.cluster import PLACEHOLDER, REPO, TEMPLATE, render_template

DEPLOY = REPO / "deploy"
SCHEMA_PATH = DEPLOY / "compose-spec" / "compose_spec.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    """The vendored Compose specification schema (docker-compose 1.29.2)."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft201909Validator.check_schema(loaded)
    return loaded


@pytest.fixture
def compose() -> dict[str, Any]:
    """deploy/compose.yaml as Compose reads it (anchors and merge keys resolved)."""
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def _errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft201909Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_compose_file_is_valid(schema: dict[str, Any], compose: dict[str, Any]) -> None:
    assert _errors(schema, compose) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "matcher-a", "depends_on", "migrate", "condition"), "after_migration"),
        (("services", "nginx", "ports"), "8000:8080"),
        (("services", "redis", "restart_policy"), "always"),
    ],
)
def test_schema_refuses_a_broken_compose_file(
    schema: dict[str, Any], compose: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    broken = copy.deepcopy(compose)
    node = broken
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    assert _errors(schema, broken)


def test_compose_runs_the_tested_topology(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "matcher-a", "matcher-b", "nginx"}
    hosts = [services["matcher-a"], services["matcher-b"]]
    # Both hosts: the repository's image, the same secret key, database and Redis.
    for host in hosts:
        assert host["build"] == {"context": "..", "dockerfile": "Dockerfile"}
        assert (DEPLOY / host["build"]["context"] / host["build"]["dockerfile"]).is_file()
        for setting in ("MATCHER_DATABASE_URL", "MATCHER_REDIS_URL", "MATCHER_SECRET_KEY"):
            assert host["environment"][setting] == hosts[0]["environment"][setting]
        assert "@postgres:5432/" in host["environment"]["MATCHER_DATABASE_URL"]
        assert host["environment"]["MATCHER_PROXIES"] == "1"  # nginx, one hop
        assert host["environment"]["MATCHER_REDIS_URL"].startswith("redis://redis:6379/")
        assert host["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["matcher", "db", "upgrade"]

    # nginx runs the template the topology test runs, with every placeholder given, in front of
    # both hosts on the port the Dockerfile serves on.
    nginx = services["nginx"]
    source, target = nginx["volumes"][0].split(":")[:2]
    assert (DEPLOY / source).resolve() == TEMPLATE
    assert target.startswith("/etc/nginx/templates/") and target.endswith(".template")
    environment = nginx["environment"]
    assert set(PLACEHOLDER.findall(TEMPLATE.read_text())) == {f"${{{k}}}" for k in environment}
    dockerfile = (REPO / "Dockerfile").read_text()
    port = re.search(r"^EXPOSE (\d+)$", dockerfile, re.MULTILINE)
    assert port, dockerfile
    assert environment["MATCHER_HOST_A"] == f"matcher-a:{port.group(1)}"
    assert environment["MATCHER_HOST_B"] == f"matcher-b:{port.group(1)}"
    assert f'"--port", "{port.group(1)}"' in dockerfile and '"--host", "0.0.0.0"' in dockerfile
    assert nginx["ports"] == [f"8000:{environment['MATCHER_NGINX_LISTEN']}"]
    rendered = render_template(**environment)
    assert "server matcher-a:8000 " in rendered and "server matcher-b:8000 " in rendered


def test_nginx_never_resends_a_post() -> None:
    # `non_idempotent` would let nginx send a POST (a referral, a rating) that a host may have
    # processed to the other host as well.
    retries = re.findall(r"^\s*proxy_next_upstream\s+([^;]+);", TEMPLATE.read_text(), re.M)
    assert retries == ["error timeout"]


def test_compose_spec_is_vendored_with_its_licence() -> None:
    licence = (SCHEMA_PATH.parent / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0" in licence
    assert Path(SCHEMA_PATH.parent / "README.md").read_text().count("1.29.2") >= 1
