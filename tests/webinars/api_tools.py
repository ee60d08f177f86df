"""Helpers of the schema tests (test_api_client.py, test_api_schemathesis.py)."""

import json
import shutil
import sys
from pathlib import Path

import pytest
from django.test import Client


def executable(name: str) -> str:
    """A tool of requirements-dev.txt: the one beside this Python first, else on PATH.

    Missing is a failure, not a skip: CI installs requirements-dev.txt, so a missing tool means
    the schema went untested.
    """
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -r requirements-dev.txt")
    return found


def write_schema(directory: Path) -> Path:
    """The schema exactly as a developer downloads it from /api/schema/, as JSON."""
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content[:300]
    path = directory / "schema.json"
    path.write_text(json.dumps(json.loads(response.content)), encoding="utf-8")
    return path
