"""Debian's Chromium for the browser tests (the Temporal UI and the HTML audit report).

Missing Chromium skips those tests on a developer's machine and fails them when CI is set:
CI installs it (`.ci/run`: apt-get install -y chromium).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("AMITY_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_or_skip() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install it (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    return CHROMIUM


def private_dirs(home: Path) -> dict[str, str]:
    """Config, cache and temp of one browser under `home` (keep it short: right under /tmp,
    Chromium's singleton socket path has a length limit)."""
    folders = {"XDG_CONFIG_HOME": home / "config", "XDG_CACHE_HOME": home / "cache", "TMPDIR": home}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {name: str(folder) for name, folder in folders.items()}
