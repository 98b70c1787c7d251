"""Running the real app: `streamlit run` on a free port, and waiting on it in Chromium.

Used by the browser tests and by the memory benchmark.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium's background connections are refused on a closed network; headless as root needs --no-sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Where a test chooses files: the Upload tab's picker once its script is ready, or Streamlit's
# uploader where the picker is off or cannot run.
UPLOAD_INPUT = '.picker[data-ready] input[data-input], [data-testid="stFileUploaderDropzoneInput"]'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app(
    env: dict[str, str], log_path: Path, timeout_s: float = 90, script: str = "streamlit_app.py"
) -> tuple[subprocess.Popen, str]:
    """Starts the app (or another script, from the project root) with `env` added to this
    process's environment; returns it and its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", script,
            "--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}; see {log_path}")
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return process, url
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"streamlit did not start within {timeout_s:.0f} s; see {log_path}")


@contextmanager
def app_running(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """The app started as `start_app` starts it, for the block (its URL); stopped after. For test
    fixtures: a start that fails fails the test."""
    import pytest

    try:
        process, url = start_app(env, log_path)
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield url
    finally:
        stop_app(process)


def stop_app(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def settle(page, timeout_ms: int = 60_000) -> None:
    """Waits until the script has finished running and the page has drawn."""
    idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    page.wait_for_selector(idle, timeout=timeout_ms)
    page.wait_for_timeout(400)
    page.wait_for_selector(idle, timeout=timeout_ms)
