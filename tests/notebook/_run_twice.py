"""Runs every code cell of a notebook twice in a row in one Deno kernel, as a learner who
re-runs a cell does, then shuts the kernel down and checks that the Chromium it started for
the plots went with it. Prints a JSON report on stdout (tests/notebook_kernel_test.ts reads it):

    /usr/bin/python3 tests/notebook/_run_twice.py notebooks/microgpt.ipynb

{"cells": [{"id", "runs": [{"errors": [...], "stderr": "...", "outputs": n}, ...]}],
 "kernel_pid": n, "chromium_pids": [...], "chromium_left": [...]}
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "tools"))
from run_notebook import deno_client  # noqa: E402  (the runner that waits for late outputs)

import nbformat  # noqa: E402


def descendants(pid):
    """Pids of every process below pid (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def is_chromium(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return "chrom" in f.read()
    except OSError:
        return False


def alive(pid):
    return os.path.exists(f"/proc/{pid}")


def main(path):
    os.environ["NO_COLOR"] = "1"
    nb = nbformat.read(path, as_version=4)
    client = deno_client(nb, path, allow_errors=True)
    report = {"cells": []}
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            # A cell tagged "heavy" (a long training loop) runs once: a second run would only
            # double the test's time.
            runs = []
            for _ in range(1 if "heavy" in cell.metadata.get("tags", []) else 2):
                client.execute_cell(cell, index)
                runs.append({
                    "errors": [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"],
                    "stderr": "".join(o.text for o in cell.outputs if o.get("name") == "stderr"),
                    "outputs": len(cell.outputs),
                })
            report["cells"].append({"id": cell.id, "runs": runs})
        pid_cell = nbformat.v4.new_code_cell("Deno.pid")
        nb.cells.append(pid_cell)
        client.execute_cell(pid_cell, len(nb.cells) - 1)
        kernel_pid = int(pid_cell.outputs[0]["data"]["text/plain"])
        report["kernel_pid"] = kernel_pid
        report["chromium_pids"] = [p for p in descendants(kernel_pid) if is_chromium(p)]
    # setup_kernel() has shut the kernel down; Chromium, driven over a pipe, follows it.
    deadline = time.time() + 20
    while time.time() < deadline and any(alive(p) for p in report["chromium_pids"]):
        time.sleep(0.2)
    report["chromium_left"] = [p for p in report["chromium_pids"] if alive(p)]
    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
