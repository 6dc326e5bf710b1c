"""Compile every translation catalogue (the project's locale/ and each app's) into .mo with Babel, so that no
gettext install is needed.

Run as ``python -m config.compilemessages`` (``make install`` does).
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Under the project directory: its own locale/ and each app's; under one locale directory: its languages.
CATALOGUES = ("locale/*/LC_MESSAGES/*.po", "*/locale/*/LC_MESSAGES/*.po", "*/LC_MESSAGES/*.po")


def compile_all(project_dir: Path = PROJECT_DIR) -> list[Path]:
    """Compile the catalogues under ``project_dir`` (the project, or one locale directory)."""
    written = []
    po_paths = {path for pattern in CATALOGUES for path in project_dir.glob(pattern) if ".venv" not in path.parts}
    for po_path in sorted(po_paths):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_all():
        print(f"compiled {path.relative_to(PROJECT_DIR)}")  # noqa: T201
