"""codegen.py: deterministic, honest about staleness, and clear about bad schemas."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

import codegen

ROOT = Path(codegen.__file__).parent


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of model/ and generated/ to break things in."""
    shutil.copytree(ROOT / "model", tmp_path / "model")
    shutil.copytree(ROOT / "generated", tmp_path / "generated", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def run(workspace: Path, *args: str) -> int:
    return codegen.main(
        [*args, "--model-dir", str(workspace / "model"), "--generated-dir", str(workspace / "generated")]
    )


def tree_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def edit_json(path: Path, change) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2))


def test_two_runs_give_identical_bytes(workspace):
    assert run(workspace) == 0
    first = tree_digest(workspace / "generated")
    assert run(workspace) == 0
    assert tree_digest(workspace / "generated") == first


def test_committed_generated_dir_is_current(capsys):
    assert codegen.main(["--check"]) == 0, capsys.readouterr().err


def test_the_output_does_not_depend_on_the_directory_it_runs_from(tmp_path, monkeypatch, capsys):
    """The formatter's settings come from the project's pyproject.toml, not the cwd's."""
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 60\n")
    monkeypatch.chdir(tmp_path)
    assert codegen.main(["--check"]) == 0, capsys.readouterr().err


def test_check_names_the_stale_file_and_writes_nothing(workspace, capsys):
    edit_json(
        workspace / "model/api/restock.json",
        lambda d: d["properties"]["quantity"].update(description="Units to add"),
    )
    before = tree_digest(workspace / "generated")
    assert run(workspace, "--check") == 1
    err = capsys.readouterr().err
    assert "stale: generated/apigateway/Restock.json" in err
    assert "stale: generated/models.py" in err
    assert tree_digest(workspace / "generated") == before


def test_check_names_missing_and_extra_files(workspace, capsys):
    (workspace / "generated/apigateway/Order.json").unlink()
    (workspace / "generated/apigateway/Leftover.json").write_text("{}")
    assert run(workspace, "--check") == 1
    err = capsys.readouterr().err
    assert "missing: generated/apigateway/Order.json" in err
    assert "extra: generated/apigateway/Leftover.json" in err


def test_regenerating_removes_files_whose_schema_is_gone(workspace):
    (workspace / "generated/apigateway/Leftover.json").write_text("{}")
    assert run(workspace) == 0
    assert not (workspace / "generated/apigateway/Leftover.json").exists()
    assert run(workspace, "--check") == 0


def test_every_generated_file_starts_with_a_do_not_edit_header_naming_its_source(workspace):
    outputs = codegen.render(workspace / "model")
    for name, text in outputs.items():
        head = text[:400]
        assert "Do not edit" in head, name
        assert "model/" in head, name
    assert "model/api/restock.json" in outputs["apigateway/Restock.json"][:200]


BROKEN = [
    pytest.param(
        "api/restock.json",
        lambda d: d["properties"]["quantity"].update({"$ref": "../common.json#/$defs/nothing"}),
        "api/restock.json#/properties/quantity/$ref",
        "points at nothing",
        id="dangling-ref",
    ),
    pytest.param(
        "api/restock.json",
        lambda d: d["properties"]["sku"].update({"minLength": "three"}),
        "api/restock.json#/properties/sku/minLength",
        "is not of type",
        id="keyword-with-a-wrong-value",
    ),
    pytest.param(
        "api/restock.json",
        lambda d: d["properties"].update({"note": {"type": "string", "format": "email"}}),
        "api/restock.json#/properties/note/format",
        "not supported by API Gateway",
        id="keyword-api-gateway-refuses",
    ),
    pytest.param(
        "events/stock_added.v1.json",
        lambda d: d.update({"if": {"required": ["sku"]}, "then": {"required": ["quantity"]}}),
        "events/stock_added.v1.json#/if",
        "not supported by API Gateway",
        id="conditional-keywords",
    ),
    pytest.param(
        "api/restock.json",
        lambda d: d.pop("$id"),
        "api/restock.json#/$id",
        "needs an $id",
        id="no-id",
    ),
    pytest.param(
        "api/restock.json",
        lambda d: d["examples"].append({"sku": "MUG-01"}),
        "api/restock.json#/examples/1",
        "example is invalid",
        id="invalid-example",
    ),
    pytest.param(
        "api/order_accepted.json",
        lambda d: d["properties"].update({"count": {"type": "integer", "minimum": 0, "exclusiveMinimum": 0}}),
        "api/order_accepted.json#/properties/count/exclusiveMinimum",
        "not both",
        id="two-lower-bounds",
    ),
]


@pytest.mark.parametrize(("source", "change", "where", "reason"), BROKEN)
def test_a_malformed_schema_fails_with_file_pointer_and_reason_and_leaves_generated_untouched(
    workspace, capsys, source, change, where, reason
):
    edit_json(workspace / "model" / source, change)
    before = tree_digest(workspace / "generated")
    assert run(workspace) == 2
    err = capsys.readouterr().err
    assert where in err
    assert reason in err
    assert tree_digest(workspace / "generated") == before


def test_a_file_that_is_not_json_is_named_with_its_line(workspace, capsys):
    (workspace / "model/api/restock.json").write_text('{\n  "title": "Restock",\n  oops\n}')
    assert run(workspace) == 2
    err = capsys.readouterr().err
    assert "api/restock.json" in err
    assert "line 3" in err


def test_openapi_describes_every_route_with_its_bodies_errors_and_the_cognito_scheme():
    document = json.loads((ROOT / "generated/openapi.json").read_text())
    routes = json.loads((ROOT / "model/routes.json").read_text())["routes"]
    for route in routes:
        operation = document["paths"][route["path"]][route["method"].lower()]
        assert operation["operationId"] == route["operation_id"]
        assert operation["security"] == [{"cognito": []}]
        for code in ("400", "401", "429", "500"):
            assert operation["responses"][code]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }
        if "request" in route:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert body == {"$ref": f"#/components/schemas/{route['request']}"}
    scheme = document["components"]["securitySchemes"]["cognito"]
    assert scheme["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert document["paths"]["/inventory"]["post"]["responses"]["403"]


def test_openapi_document_is_valid_openapi_3_1():
    from jsonschema import Draft202012Validator

    document = json.loads((ROOT / "generated/openapi.json").read_text())
    assert document["openapi"].startswith("3.1")
    # Every $ref inside the document resolves.
    text = json.dumps(document)
    for name in {part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}:
        assert name in document["components"]["schemas"], name
        Draft202012Validator.check_schema(document["components"]["schemas"][name])
