"""`aftercare serve`: web server and worker as children, stopped together."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from tests.jobs.conftest import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _eventually(check: Callable[[], bool], *, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def _report(env: dict[str, str]) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.jobs.mp_runner", "report"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return dict(json.loads(out))


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "aftercare.cli", "serve", "--port", str(port)],
        env={**env, "AFTERCARE_WEB_WORKERS": "1", "AFTERCARE_WEB_THREADS": "2"},
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
def test_serve_runs_web_and_worker_until_sigterm(scratch_db: dict[str, str]) -> None:
    port = _free_port()
    serve = _serve(scratch_db, port)
    try:
        _eventually(
            lambda: _http_status(f"http://127.0.0.1:{port}/admin/login/") == 200,
            what="the web server",
        )
        # The worker child is alive: it ran the built-in periodic job.
        _eventually(lambda: _report(scratch_db)["prune_runs"] == 1, what="the worker")
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()

    assert serve.returncode == 0, out
    assert f"running at http://127.0.0.1:{port}/" in out
    assert _http_status(f"http://127.0.0.1:{port}/admin/login/") is None  # web is down too


@pytest.mark.slow
def test_serve_stops_the_worker_when_the_web_server_dies(scratch_db: dict[str, str]) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = int(squatter.getsockname()[1])
        serve = _serve(scratch_db, port)  # gunicorn cannot bind, gives up, exits
        try:
            out, _ = serve.communicate(timeout=60)
        finally:
            if serve.poll() is None:
                serve.kill()
                serve.wait()

    assert serve.returncode != 0
    assert "the web process exited with code" in out
