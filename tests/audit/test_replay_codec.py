"""`amity audit replay --workflows` with payload encryption on: the replayer decodes the
histories with the same data converter (and codec) the worker wrote them with."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runtime.devserver import DevServer
from tests.cli.test_up import clean_env
from tests.security.test_codec_fail_closed import Sealed, sealed, started

__all__ = ["sealed"]  # the fixture, shared with the codec tests


async def test_replay_decodes_encrypted_histories(dev_server: DevServer, sealed: Sealed) -> None:
    pid = await started(sealed)
    env = clean_env(TEMPORAL_ADDRESS=dev_server.address, AMITY_PAYLOAD_KEY=sealed.key)
    query = f'WorkflowId="{pid}"'
    replay = [str(Path(sys.executable).parent / "amity"), "audit", "replay", "--workflows"]
    result = subprocess.run(
        [*replay, "--query", query], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "replayed 1 workflow histories: 0 failure(s)" in result.stdout
