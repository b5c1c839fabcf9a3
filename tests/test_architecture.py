"""The directions the architecture promises, checked on real imports."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def loaded_modules(code: str) -> set[str]:
    script = code + "\nimport sys\nprint('\\n'.join(sys.modules))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    return set(result.stdout.split())


def test_the_web_process_never_loads_the_model_or_the_job_code():
    modules = loaded_modules(
        "from service.app import create_app\nfrom service.config import Settings\nimport redis\n"
        "create_app(Settings.from_env({'CIVILITY_DATA_DIR': '/tmp'}), redis=redis.Redis())"
    )
    assert "service.api" in modules
    assert not {"torch", "transformers", "models.scorer", "workers.jobs"} & modules


def test_the_model_library_imports_no_service_parts():
    modules = loaded_modules("import models\nmodels.load()")
    assert "torch" in modules
    assert not {m for m in modules if m.split(".")[0] in {"flask", "rq", "redis", "sqlalchemy", "service", "workers"}}
