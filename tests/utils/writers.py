"""`headatlas` writers as users start them: separate processes, several at once, or killed part way."""

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

# The command line of the virtualenv running us.
HEADATLAS = Path(sys.executable).with_name("headatlas")
# One thread each (the machine is shared) and no network.
WRITER_ENV = {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
# The longest any one writer may take before the caller gives up on it, in seconds.
WRITER_TIMEOUT = 300


@dataclass(frozen=True)
class Exited:
    """How a writer ended: its exit code (negative: the signal that ended it), its output, and how long it ran."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    signalled: bool = False  # a fault was sent before it exited by itself

    def describe(self) -> str:
        return f"exit {self.returncode} after {self.seconds:.1f} s: {self.last_words()}"

    def last_words(self) -> str:
        """The last line of its error output that says something (SQLAlchemy ends with a link)."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        said = [line for line in lines if not line.startswith("(Background on this error")]
        return (said or ["(no output)"])[-1]


def url_of(engine: Engine) -> str:
    """The engine's URL with its password, as a writer process needs it."""
    return engine.url.render_as_string(hide_password=False)


def headatlas(url: str, *args: str) -> list[str]:
    """`headatlas --database-url URL ARGS…` as an argument list."""
    return [str(HEADATLAS), "--database-url", url, *args]


def start(command: list[str], env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **WRITER_ENV, **(env or {})},
    )


def finish(process: subprocess.Popen[str], started: float, *, signalled: bool = False) -> Exited:
    try:
        stdout, stderr = process.communicate(timeout=WRITER_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return Exited(process.returncode, stdout, stderr, time.perf_counter() - started, signalled)


def run_whole(command: list[str], env: Mapping[str, str] | None = None) -> Exited:
    """Run a writer to its end, with `env` added to the environment."""
    started = time.perf_counter()
    return finish(start(command, env), started)


def run_together(commands: list[list[str]]) -> list[Exited]:
    """Start every writer at once, then wait for them all."""
    started = time.perf_counter()
    processes = [start(command) for command in commands]
    return [finish(process, started) for process in processes]


def run_interrupted(command: list[str], *, after: float, fault: signal.Signals = signal.SIGKILL) -> Exited:
    """Run a writer and send it `fault` `after` seconds in, unless it has exited by then."""
    started = time.perf_counter()
    process = start(command)
    try:
        stdout, stderr = process.communicate(timeout=after)  # reading its output as it comes, so it never blocks
    except subprocess.TimeoutExpired:
        process.send_signal(fault)
        return finish(process, started, signalled=True)  # communicate again: no output is lost
    return Exited(process.returncode, stdout, stderr, time.perf_counter() - started)


def run_watched(command: list[str], count: Callable[[], int], *, every: float = 0.02) -> tuple[Exited, list[float]]:
    """Run a writer to its end, noting the moments (seconds in) at which `count()`, e.g. the runs stored, changed."""
    started = time.perf_counter()
    process = start(command)
    seen, moments = count(), []
    while True:
        try:
            stdout, stderr = process.communicate(timeout=every)
            break
        except subprocess.TimeoutExpired:
            if (now := count()) != seen:
                seen, moments = now, [*moments, time.perf_counter() - started]
    seconds = time.perf_counter() - started
    if count() != seen:
        moments.append(seconds)
    return Exited(process.returncode, stdout, stderr, seconds), moments


def fault_times(
    rng: random.Random, rounds: int, seconds: float, *, writing: tuple[float, float] | None = None
) -> list[float]:
    """Seeded random moments to interrupt a run that takes `seconds`, in a shuffled order.

    One in each of `rounds` equal slices of the run, so that every stage is hit; or, given the `writing`
    window (from the first write to the last), half of them (rounded up) so and the rest while it writes.
    """
    anywhere = rounds if writing is None else (rounds + 1) // 2
    times = [seconds * (i + rng.random()) / anywhere for i in range(anywhere)]
    if writing is not None:
        start, end = writing
        times += [start + (end - start) * (i + rng.random()) / (rounds - anywhere) for i in range(rounds - anywhere)]
    rng.shuffle(times)
    return times


def writing_window(moments: list[float], *, margin: float = 0.05) -> tuple[float, float] | None:
    """From just before the first write seen to just after the last, or None if none was seen."""
    return (max(moments[0] - margin, 0.0), moments[-1] + margin) if moments else None
