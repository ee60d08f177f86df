"""Project-level promises: configuration is documented, the compose file is well-formed."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_env_example_lists_every_variable_the_settings_read():
    read = set()
    for path in (ROOT / "portal" / "settings").glob("*.py"):
        read |= set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z0-9_]+)"', path.read_text()))
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read and not (read - listed), f"missing from .env.example: {sorted(read - listed)}"


def test_compose_file_declares_the_production_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "minio", "minio-init", "web", "scheduler", "redis"} <= set(services)
    assert "qcluster" in services["scheduler"]["command"]
    assert "migrate" in services["web"]["command"]
    assert services["jitsi-web"]["profiles"] == ["jitsi"]


def test_requirements_are_all_pinned():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r")):
                assert "==" in line, f"{name}: {line} is not pinned"
