"""The deployment files, checked as far as a machine without a Docker engine allows.

No image can be built here, so the test reads compose.yaml and the Dockerfile and runs what they say:
compose's own commands and environment start the migration, the API and two workers as processes
(only host names and ports are mapped to this machine), and the image's HEALTHCHECK command probes the API.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from rq import Worker

from service.cli import parser
from service.embedded_redis import free_port
from service.sites import create_site
from tests.conftest import CIVILITY, ROOT, comment_payload
from tests.test_processes import clean_env, http, wait_for

COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
CIVILITY_SERVICES = ("migrate", "api", "worker")


def dockerfile() -> dict[str, list[str]]:
    """Each instruction's arguments, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    instructions: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            instructions.setdefault(word.upper(), []).append(rest.strip())
    return instructions


def test_compose_runs_the_services_ops_need_with_redis_persisted_and_migrations_first():
    services = COMPOSE["services"]
    assert set(services) == {"redis", "postgres", "migrate", "api", "worker"}
    redis_command = services["redis"]["command"]
    assert redis_command[redis_command.index("--appendonly") + 1] == "yes"
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"]["REDIS_URL"].startswith("redis://redis:")
    for name in CIVILITY_SERVICES:
        command = services[name]["command"]
        assert command[0] == "civility"
        parser().parse_args(command[1:])  # the CLI accepts it (argparse exits on anything else)
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql://civility:civility@postgres:")


def test_the_image_runs_as_a_user_with_cpu_torch_no_hub_access_and_a_healthcheck():
    instructions = dockerfile()
    assert instructions["USER"] == ["civility"]
    assert any("torch==2.13.0" in run and "/whl/cpu" in run for run in instructions["RUN"])
    env = " ".join(instructions["ENV"])
    assert "HF_HUB_OFFLINE=1" in env and "TRANSFORMERS_OFFLINE=1" in env
    assert any("COPY models" in f"COPY {copy}" for copy in instructions["COPY"])  # the model ships in the image
    command = json.loads(instructions["CMD"][0])
    assert command[0] == "civility"
    parser().parse_args(command[1:])
    assert "/healthz" in instructions["HEALTHCHECK"][0]


def compose_env(service: str, settings: Any) -> dict[str, str]:
    """The service's environment from compose.yaml, its hosts mapped to this test's database and Redis."""
    env = clean_env(**{str(k): str(v) for k, v in COMPOSE["services"][service]["environment"].items()})
    env["DATABASE_URL"] = settings.database_url
    env["REDIS_URL"] = settings.redis_url
    env["CIVILITY_DATA_DIR"] = str(settings.data_dir)
    return env


def compose_command(service: str, port: int) -> list[str]:
    command = [str(part) for part in COMPOSE["services"][service]["command"]]
    command = [{"0.0.0.0": "127.0.0.1", "8000": str(port)}.get(part, part) for part in command]
    return [*CIVILITY, *command[1:]]


@pytest.mark.slow
def test_the_compose_commands_run_migrate_an_api_and_two_workers_that_decide_comments(
    settings, db, redis, tmp_path: Path
):
    port = free_port()
    migrate = subprocess.run(
        compose_command("migrate", port), env=compose_env("migrate", settings), cwd=ROOT, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    with db.session() as session:
        key = create_site(session, "compose-news").api_key

    processes = []
    try:
        with open(tmp_path / "processes.log", "w") as log:
            for service in ("api", "worker", "worker"):
                processes.append(
                    subprocess.Popen(
                        compose_command(service, port),
                        env=compose_env(service, settings),
                        cwd=ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        base = f"http://127.0.0.1:{port}"
        healthcheck = shlex.split(dockerfile()["HEALTHCHECK"][0].partition(" CMD ")[2].replace(":8000", f":{port}"))
        assert healthcheck[0] == "python"

        def healthy() -> bool:
            return subprocess.run([sys.executable, *healthcheck[1:]], capture_output=True).returncode == 0

        wait_for(healthy, 90)  # gunicorn and two workers importing torch on a busy machine
        wait_for(lambda: Worker.count(connection=redis) == 2, 60)
        status, ready = http("GET", base + "/readyz")
        assert status == 200 and ready["checks"] == {"redis": "ok", "database": "ok", "model": "ok", "workers": "ok"}
        ids = []
        for n in range(6):
            status, body = http("POST", base + "/v1/comments", key, comment_payload(body=f"Good report, thanks ({n})."))
            assert status == 202, body
            ids.append(body["id"])
        for comment_id in ids:
            decided = wait_for(
                lambda cid=comment_id: (
                    (r := http("GET", f"{base}/v1/comments/{cid}", key)[1])["status"] != "pending" and r
                ),
                90,
            )
            assert decided["status"] == "approved" and decided["model_version"]
        titles = subprocess.run(
            ["ps", "-o", "args=", "-p", ",".join(str(p.pid) for p in processes)], capture_output=True, text=True
        )
        assert titles.stdout.count("civility worker") == 2 and "civility api" in titles.stdout
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    assert all(process.returncode == 0 for process in processes), (tmp_path / "processes.log").read_text()[-3000:]
