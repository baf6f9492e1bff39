"""The layers of style.md hold: dependencies point inward, and each layer keeps to its job."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "matcher"


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _offending(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    bad = {}
    for path in _modules(folder):
        hits = sorted(
            name
            for name in _imports(path)
            if name.split(".")[0] in forbidden
            or name in forbidden
            or any(name.startswith(prefix + ".") for prefix in forbidden)
        )
        if hits:
            bad[str(path.relative_to(PACKAGE))] = hits
    return bad


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        # The pure core: numpy, scipy and scikit-learn maths; no web, no database, no use cases.
        (
            "core",
            (
                "flask",
                "flask_smorest",
                "sqlalchemy",
                "sqlmodel",
                "matcher.web",
                "matcher.storage",
                "matcher.services",
                "matcher.schemas",
                "os",
            ),
        ),
        # Views reach the database only through services.
        ("web", ("matcher.storage", "sqlalchemy", "sqlmodel.sql")),
        # Services never speak HTTP: they raise refusals the web edge maps to statuses.
        ("services", ("flask", "flask_smorest", "werkzeug", "matcher.web")),
        # Schemas validate; they do not reach into services, storage or the web.
        ("schemas", ("matcher.services", "matcher.storage", "matcher.web", "flask")),
        ("storage", ("matcher.services", "matcher.web", "flask")),
    ],
)
def test_dependencies_point_inward(folder: str, forbidden: tuple[str, ...]) -> None:
    assert _offending(folder, forbidden) == {}


def test_services_raise_no_http_status() -> None:
    for path in _modules("services"):
        text = path.read_text(encoding="utf-8")
        assert "abort(" not in text, path
        assert "status=" not in text.replace('status="', ""), path


def test_configuration_is_read_only_by_settings() -> None:
    readers = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "os.environ" in path.read_text(encoding="utf-8") or "getenv(" in path.read_text()
    ]
    assert readers == ["config.py"]
