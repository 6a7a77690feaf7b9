"""The outside checkers the suite runs on our pages: the W3C Nu HTML checker
(vnu.jar, on Java) and axe-core (in Chromium). Both come from npm, pinned
exactly in package.json and package-lock.json, installed by `make install`
(`npm ci`): the vnu-jar package follows the checker's own releases, while the
PyPI wrapper that used to carry it had stopped at vnu 20.6.30."""

import json
import os
import subprocess
from pathlib import Path

import pytest

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"


def require_node_module(path):
    """Skip on a developer machine without `npm ci`; in CI its absence fails."""
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing on CI: `make install` should have run `npm ci`.")
        pytest.skip(f"{path.relative_to(NODE_MODULES.parent)} is missing (run `make install` with npm present).")


def vnu_messages(files):
    """The Nu checker's errors for these HTML files: [{"url", "message", …}]."""
    require_node_module(VNU_JAR)
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(result.stderr or result.stdout)["messages"]
