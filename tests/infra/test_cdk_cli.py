"""The real CDK CLI, run the way `make synth` and CI run it: offline, no AWS account, no Docker."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from infra.aws import toolchain
from tests.infra.conftest import SENDER, Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.slow]


def without_code_fingerprints(template: dict) -> str:
    """The template with the fingerprints of function code blanked out.

    The two synths run seconds apart; if a source file changes in between (people at work in
    the same tree), only these change. test_bundling.py checks the fingerprints themselves.
    """
    text = json.dumps(template, sort_keys=True)
    text = re.sub(r"CurrentVersion([0-9A-F]{8})[0-9a-f]{32}", r"CurrentVersion\1<code>", text)
    return re.sub(r'"[0-9a-f]{64}\.zip"', '"<code>.zip"', text)


def test_cdk_synth_runs_offline_and_matches_the_in_process_template(
    synthesized: Synthesized, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)  # no credentials: nothing may need an account
    try:
        completed = toolchain.cdk(
            [
                "synth",
                "--quiet",
                "-c",
                "skipBundling=true",
                "-c",
                f"senderEmail={SENDER}",
                "-o",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=240,
        )
    except subprocess.TimeoutExpired as timeout:
        pytest.fail(f"cdk synth did not finish: {timeout}")
    assert completed.returncode == 0, completed.stderr[-4000:]
    template = json.loads((tmp_path / f"{synthesized.stack_name}.template.json").read_text())
    assert without_code_fingerprints(template) == without_code_fingerprints(synthesized.template)


def test_instance_metadata_is_left_alone_for_commands_that_need_credentials(monkeypatch) -> None:
    """`deploy` on EC2 or in CI may take its credentials from the instance's role."""
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED", raising=False)
    assert toolchain.cli_environment(["synth", "--quiet"])["AWS_EC2_METADATA_DISABLED"] == "true"
    for command in (["deploy"], ["bootstrap"], ["destroy"], ["diff"]):
        assert "AWS_EC2_METADATA_DISABLED" not in toolchain.cli_environment(command), command
