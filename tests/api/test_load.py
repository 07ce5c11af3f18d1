"""A served API under 128 concurrent requests: no 500s, no hangs, and /health prompt right after."""

import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.api.test_serve import _get_when_up, free_port

# Requests in flight at once, and how many each of them sends in turn.
CONNECTIONS, ROUNDS = 128, 3
# The benchmark's queries (bench/api.py), on the test catalog.
PATHS = [
    "/api/v1/head-types?stage=ICI&limit=50",
    "/api/v1/papers?year=2024&q=head&limit=50",
    "/api/v1/head-types/induction-head",
    "/api/v1/models/gpt2-small/heads?min_score=0.5&sort=-score&limit=50",
    "/api/v1/search?q=induction+head&limit=20",
]
# The longest any one answer may take, in seconds: beyond it the server is hanging.
ANSWER_SECONDS = 30
# How soon /health must answer once the load ends, in seconds.
HEALTH_SECONDS = 1.0


def test_128_concurrent_requests_get_no_500_and_health_answers_promptly_after(catalog_url: str, tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-c", "from cli.main import main; main()", "--database-url", catalog_url]
    command += ["serve", "--port", str(port), "--site-dir", str(tmp_path / "no-site"), "--no-access-log"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    origin = f"http://127.0.0.1:{port}"
    try:
        _get_when_up(origin + "/api/v1/health")
        statuses = _load(origin)
        started = time.perf_counter()
        with urllib.request.urlopen(origin + "/api/v1/health", timeout=HEALTH_SECONDS) as health:
            assert health.status == 200
        assert time.perf_counter() - started < HEALTH_SECONDS
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a server that hangs does not stop either
            server.kill()
    assert sum(statuses.values()) == CONNECTIONS * ROUNDS
    assert set(statuses) <= {200, 503}, statuses  # 503: busy, with Retry-After (checked in _get)


def _load(origin: str) -> Counter[int]:
    start = threading.Barrier(CONNECTIONS)

    def client(n: int) -> list[int]:
        start.wait()
        return [_get(origin + PATHS[(n + i) % len(PATHS)]) for i in range(ROUNDS)]

    with ThreadPoolExecutor(CONNECTIONS) as pool:
        return Counter(status for statuses in pool.map(client, range(CONNECTIONS)) for status in statuses)


def _get(url: str) -> int:
    """The answer's status; a busy answer must say when to come back, and a hang fails the test."""
    try:
        with urllib.request.urlopen(url, timeout=ANSWER_SECONDS) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        if error.code == 503:
            assert error.headers["Retry-After"] == "1"
            assert error.headers["Content-Type"] == "application/problem+json"
        return error.code
