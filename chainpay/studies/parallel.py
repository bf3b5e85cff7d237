"""Run a study's independent on-chain groups side by side, one worker process each.

The shared-currency chain and the bridge's two chains never touch each other, and each group draws
from its own random streams, so running them in separate processes gives the rows a serial run gives
(tested) in about the time of the slower group. Workers are spawned, not forked: a forked child would
hold copies of the parent's pipes to any engine process it had open, and an engine process exits only
when its pipe closes. A worker reports `progress(group, done)` and its result (or its exception)
through one queue the parent reads; a worker that dies without reporting is an error, and on any
error the other workers are stopped. A worker exits as soon as the parent is gone, however it went
(SIGKILL included), so neither it nor its engine's process outlives the run.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import pickle
import queue
import threading
import traceback
from typing import Any, Callable, Sequence

Progress = Callable[[str, int], None]
# (group name, a module-level function, its keyword arguments but `progress`)
Task = tuple[str, Callable[..., Any], dict]


class WorkerFailed(RuntimeError):
    """A study worker process died or raised an exception that could not be sent back as itself."""


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    multiprocessing.connection.wait([parent.sentinel])  # ready when the parent process has ended
    os._exit(1)  # the engine's node process then sees its pipe close and exits too


def _worker(index: int, fn: Callable[..., Any], kwargs: dict, messages) -> None:
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    try:
        result = fn(**kwargs, progress=lambda group, done: messages.put(("progress", group, done)))
        messages.put(("done", index, result))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        exc.add_note(f"in the study worker for this group:\n{traceback.format_exc()}")  # shown with CHAINPAY_DEBUG=1
        try:
            pickle.loads(pickle.dumps(exc))  # an exception that cannot cross processes as itself goes as text
        except Exception:
            exc = WorkerFailed(f"{type(exc).__name__}: {exc}")
        messages.put(("failed", index, exc))


def run_groups(tasks: Sequence[Task], progress: Progress, workers: int) -> list[Any]:
    """Each task's result, in the order of `tasks`: in this process one after the other when `workers`
    is 1 (or there is one task), else in up to `workers` spawned processes at once. The first
    exception a task raises is raised here."""
    if workers <= 1 or len(tasks) <= 1:
        return [fn(**kwargs, progress=progress) for _, fn, kwargs in tasks]
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    waiting = list(enumerate(tasks))
    running: dict[int, Any] = {}
    results: dict[int, Any] = {}
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                index, (_, fn, kwargs) = waiting.pop(0)
                running[index] = context.Process(target=_worker, args=(index, fn, kwargs, messages), daemon=True)
                running[index].start()
            try:
                kind, key, value = messages.get(timeout=0.5)
            except queue.Empty:
                kind = None
            for index, process in running.items():  # a worker that reported exits 0; any other exit is a death
                if not process.is_alive() and process.exitcode != 0:
                    raise WorkerFailed(f"the worker for {tasks[index][0]} died (exit code {process.exitcode})")
            if kind is None:
                continue
            if kind == "progress":
                progress(key, value)
            elif kind == "done":
                results[key] = value
                running.pop(key).join()
            else:
                running.pop(key).join()
                raise value
    finally:
        for process in running.values():
            process.terminate()
            process.join()
    return [results[i] for i in range(len(tasks))]
