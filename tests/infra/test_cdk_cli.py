"""The real CDK CLI, run the way `make synth` and CI run it: offline, no AWS account, no Docker."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from infra.aws import toolchain
from tests.infra.conftest import SENDER, Synthesized

pytestmark = [pytest.mark.infra, pytest.mark.slow]


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
    assert template == synthesized.template
