"""The Celery side of `ops/bench --compare celery`: the same unit of work as Botyard's no-op job."""
import os
import subprocess
import time

from celery import Celery

app = Celery("botyard_bench", broker=os.environ["BOTYARD_CELERY_BROKER"], backend="rpc://")
app.conf.update(
    task_acks_late=True,  # acknowledged after the task ran, as Botyard acks after the outcome
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
)


@app.task(name="botyard_bench.run_true")
def run_true():
    """Runs /bin/true as a child process and records its exit code and output, as a Botyard worker does."""
    started = time.time()
    finished = subprocess.run(["/bin/true"], capture_output=True)
    return {"code": finished.returncode, "output": finished.stdout.decode() + finished.stderr.decode(),
            "started": started}
