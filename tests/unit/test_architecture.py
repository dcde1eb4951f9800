"""The dependency direction of DESIGN.md section 8, checked on every import in the code.

model/ -> generated/ -> ordering/ (domain <- services <- adapters) -> handlers/, streams/ -> infra/
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IO_CLIENTS = ("boto3", "botocore", "pynamodb", "psycopg", "aws_lambda_powertools", "stripe")

# (files matching this prefix, imports they must not make, why)
RULES = [
    ("ordering/domain/", IO_CLIENTS, "the domain is pure"),
    ("ordering/domain/", ("ordering.ports", "ordering.adapters", "ordering.services", "ordering.bootstrap"),
     "the domain knows no ports, adapters or services"),
    ("ordering/ports/", ("ordering.adapters", "ordering.services", *IO_CLIENTS), "ports are abstractions"),
    ("ordering/services/", ("ordering.adapters", "ordering.bootstrap", *IO_CLIENTS), "services: ports only"),
    ("ordering/", ("handlers", "streams", "infra", "bench"), "the core is imported, never importing"),
    ("generated/", ("ordering", "handlers", "streams", "infra"), "generated/ comes first"),
    ("handlers/", ("infra", "streams", "bench"), "handlers never import infra"),
    ("streams/", ("infra", "handlers", "bench"), "stream consumers never import infra"),
    ("infra/topology.py", ("aws_cdk", "constructs", "boto3", "infra.aws", "infra.local"), "topology is data"),
    ("infra/aws/", ("infra.local",), "the two interpreters are independent"),
    ("infra/local/", ("infra.aws", "aws_cdk"), "the two interpreters are independent"),
]  # fmt: skip


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def python_files() -> list[Path]:
    tops = ("generated", "ordering", "handlers", "streams", "infra")
    return sorted(p for top in tops if (ROOT / top).exists() for p in (ROOT / top).rglob("*.py"))


def violations() -> list[str]:
    problems = []
    for path in python_files():
        relative = path.relative_to(ROOT).as_posix()
        for prefix, banned, why in RULES:
            if not relative.startswith(prefix):
                continue
            for module in imports_of(path):
                if any(module == b or module.startswith(b + ".") for b in banned):
                    problems.append(f"{relative} imports {module}: {why}")
    return problems


def test_the_import_graph_points_one_way():
    assert violations() == []


@pytest.mark.parametrize("rule_index", range(len(RULES)))
def test_every_rule_applies_to_code_that_exists(rule_index):
    prefix = RULES[rule_index][0]
    assert any(p.relative_to(ROOT).as_posix().startswith(prefix) for p in python_files()), prefix


def test_the_checker_catches_a_violation(tmp_path, monkeypatch):
    domain = tmp_path / "ordering" / "domain"
    domain.mkdir(parents=True)
    (domain / "bad.py").write_text("import boto3\nfrom ordering.adapters.x import y\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = violations()
    assert any("bad.py imports boto3" in problem for problem in found)
    assert any("bad.py imports ordering.adapters.x" in problem for problem in found)
