"""The dependency direction, checked on every import of every package.

model/ -> generated/ -> ordering/ (domain <- ports <- services <- adapters) -> handlers/, streams/
-> infra/ (topology -> aws/ | emulator/ -> dev/) -> bench/ -> cli/
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
    ("ordering/", ("handlers", "streams", "infra", "bench", "cli"), "the core is imported, never importing"),
    ("generated/", ("ordering", "handlers", "streams", "infra", "bench", "cli"), "generated/ comes first"),
    ("handlers/", ("infra", "streams", "bench", "cli"), "handlers never import infra"),
    ("streams/", ("infra", "handlers", "bench", "cli"), "stream consumers never import infra"),
    ("infra/", ("bench", "cli"), "infra is below the benchmarks and the command line"),
    ("infra/topology.py", ("aws_cdk", "constructs", "boto3", "infra.aws", "infra.emulator", "infra.dev"),
     "topology is data"),
    ("infra/aws/", ("infra.emulator", "infra.dev"), "the two interpreters are independent"),
    ("infra/emulator/", ("infra.aws", "aws_cdk", "infra.dev"),
     "the emulator knows AWS and the topology, not the orders dev tool built on it"),
    ("infra/dev/", ("infra.aws", "aws_cdk"), "orders dev runs on the emulator, not on CDK"),
    ("bench/", ("cli",), "the command line is the top layer"),
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
    packages = sorted(init.parent for init in ROOT.glob("*/__init__.py") if init.parent.name != "tests")
    assert packages, ROOT
    return sorted(p for package in packages for p in package.rglob("*.py"))


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
    (tmp_path / "ordering" / "__init__.py").write_text("")
    (domain / "bad.py").write_text("import boto3\nfrom ordering.adapters.x import y\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = violations()
    assert any("bad.py imports boto3" in problem for problem in found)
    assert any("bad.py imports ordering.adapters.x" in problem for problem in found)
