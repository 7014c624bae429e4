"""Runs a Celery worker on the bench's broker and measures it as `botyard-bench` measures Botyard.

Prints one JSON line: tasks/s from the first submission to the last completion (median of the
runs), submit → start latencies in milliseconds over every task of every run, and the machine's
CPU a task (every process, median of the runs).
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--broker", required=True)
parser.add_argument("--tasks", type=int, default=1000)
parser.add_argument("--concurrency", type=int, default=16)
parser.add_argument("--repeats", type=int, default=3)
arguments = parser.parse_args()
os.environ["BOTYARD_CELERY_BROKER"] = arguments.broker
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from tasks import app, run_true  # noqa: E402

worker = subprocess.Popen(
    [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool", "prefork",
     "--concurrency", str(arguments.concurrency), "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
    cwd=here, env=dict(os.environ, PYTHONPATH=here), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    start_new_session=True)


def machine_busy_seconds():
    """CPU time every process on the machine spent so far (user, nice, system, interrupts), as
    `botyard-bench` reads it for Botyard's runs."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    return (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) / os.sysconf("SC_CLK_TCK")


def percentile(values, p):
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))
    return ordered[rank]


try:
    deadline = time.time() + 60
    while not app.control.ping(timeout=0.5):
        if time.time() > deadline or worker.poll() is not None:
            sys.exit("the Celery worker did not start")
    [result.get(timeout=60) for result in [run_true.delay() for _ in range(50)]]

    rates, latencies, machine_cpu = [], [], []
    for _ in range(arguments.repeats):
        submitted = []
        busy = machine_busy_seconds()
        start = time.time()
        for _ in range(arguments.tasks):
            submitted.append((time.time(), run_true.delay()))
        outcomes = [(at, result.get(timeout=300)) for at, result in submitted]
        rates.append(arguments.tasks / (time.time() - start))
        machine_cpu.append((machine_busy_seconds() - busy) * 1000 / arguments.tasks)
        latencies += [(outcome["started"] - at) * 1000 for at, outcome in outcomes]
        if any(outcome["code"] != 0 for _, outcome in outcomes):
            sys.exit("a task's /bin/true failed")
    print(json.dumps({"tasksPerSecond": statistics.median(rates), "startP50": percentile(latencies, 50),
                      "startP99": percentile(latencies, 99), "tasks": len(latencies),
                      "machineCPUMilliseconds": statistics.median(machine_cpu)}))
finally:
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
