"""core knows no domain: it imports no app of the project; and hand-written SQL has only its homes (the row writer
and an app's ``sql.py``)."""

import ast
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = {"config", "shop", "vouchers", "payments", "delivery", "redemption", "merchants", "events"}
# The health check's probe is the one statement outside them: it asks whether the database answers at all.
SQL_HOMES = {"core/rows.py", "config/health.py"}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def source_files() -> list[Path]:
    return [
        path
        for path in PROJECT_DIR.glob("*/**/*.py")
        if path.relative_to(PROJECT_DIR).parts[0] not in {".venv", "tests", "bench", "var"}
        and "migrations" not in path.parts
    ]


def test_core_holds_the_shared_modules_and_imports_no_app():
    modules = {path.name for path in (PROJECT_DIR / "core").rglob("*.py")}
    assert {"rows.py", "cache.py", "client_address.py", "errors.py", "admin.py", "email.py", "mail.py"} <= modules
    assert (PROJECT_DIR / "core" / "postgresql" / "base.py").exists()
    for path in (PROJECT_DIR / "core").rglob("*.py"):
        assert not imported_packages(path) & PROJECT_PACKAGES, path


def test_no_app_imports_from_config():
    for path in source_files():
        if path.relative_to(PROJECT_DIR).parts[0] != "config":
            assert "config" not in imported_packages(path), path


def test_sql_is_written_only_in_its_homes():
    for path in source_files():
        relative = path.relative_to(PROJECT_DIR).as_posix()
        if relative in SQL_HOMES or path.name == "sql.py":
            continue
        assert ".cursor(" not in path.read_text(encoding="utf-8"), relative
