"""The study's on-chain groups in worker processes: the same rows as one process, progress from both,
a failing or dying worker is an error in the parent with the other worker stopped, and the workers
exit when the parent is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chainpay.core import errors
from chainpay.studies import bridging
from chainpay.studies.config import StudyConfig
from chainpay.studies.parallel import WorkerFailed, run_groups
from chainpay.testing import test_engine

ENGINE = test_engine()


def test_two_workers_give_the_rows_of_one_process_and_report_progress():
    config = StudyConfig.load(None)
    serial = bridging.run(config, 24, seed=3, engine=ENGINE)
    seen = []
    parallel = bridging.run(config, 24, seed=3, engine=ENGINE, workers=2, progress=lambda g, n: seen.append((g, n)))
    assert parallel == serial
    for group in ("shared", "bridge"):
        counts = [n for g, n in seen if g == group]
        assert counts == sorted(counts) and counts[-1] == 24


# Module-level, so that a spawned worker can import them.
def _sleeps(progress, seconds):
    progress("slow", 1)
    time.sleep(seconds)
    return "slept"


def _raises(progress):
    raise errors.revert_class("EnforcedPause")()


def _dies(progress):
    os._exit(7)


def _answers(progress, value):
    progress("quick", 1)
    return value


def test_results_come_back_in_task_order():
    tasks = [("slow", _sleeps, {"seconds": 0.5}), ("quick", _answers, {"value": 42})]
    assert run_groups(tasks, lambda g, n: None, workers=2) == ["slept", 42]
    assert run_groups(tasks[1:], lambda g, n: None, workers=2) == [42]  # one task: in this process


def test_a_workers_typed_error_is_raised_in_the_parent_and_the_other_worker_is_stopped():
    started = time.monotonic()
    with pytest.raises(errors.revert_class("EnforcedPause")) as caught:
        run_groups([("slow", _sleeps, {"seconds": 60}), ("bad", _raises, {})], lambda g, n: None, workers=2)
    assert "_raises" in caught.value.__notes__[0]  # the worker's traceback comes along
    assert time.monotonic() - started < 30  # the sleeping worker was terminated, not waited for


def test_a_worker_that_dies_without_a_word_is_an_error():
    with pytest.raises(WorkerFailed, match="exit code 7"):
        run_groups([("slow", _sleeps, {"seconds": 60}), ("dies", _dies, {})], lambda g, n: None, workers=2)


def _writes_pid_and_sleeps(progress, directory):
    Path(directory, str(os.getpid())).write_text("")
    time.sleep(120)


PARENT = """
import sys
from chainpay.studies.parallel import run_groups
from test_study_parallel import _writes_pid_and_sleeps
if __name__ == "__main__":
    tasks = [(name, _writes_pid_and_sleeps, {"directory": sys.argv[1]}) for name in ("one", "two")]
    run_groups(tasks, lambda g, n: None, workers=2)
"""


def test_workers_exit_when_the_parent_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), *sys.path]))
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path)], env=env)
    deadline = time.monotonic() + 60
    while len([p for p in tmp_path.iterdir() if p.name.isdigit()]) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = [int(p.name) for p in tmp_path.iterdir() if p.name.isdigit()]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
