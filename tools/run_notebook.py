"""Executes a notebook with Deno's Jupyter kernel and writes it back with its outputs.

    /usr/bin/python3 tools/run_notebook.py notebooks/microgpt.ipynb [OUTPUT]

(`deno task notebook` runs this in place.) Why not `jupyter nbconvert --execute`: Deno's kernel
sometimes reports "idle" before a cell's last outputs reach the client, and nbclient stops
reading at "idle", so outputs went missing at random. This runner keeps reading a cell's
outputs until 0.3 s pass without one after "idle".

The written file is deterministic: no timing metadata, cell ids kept, NO_COLOR=1 so nothing
prints ANSI colour codes.
"""

import os
import queue
import sys
from pathlib import Path

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionComplete
    from nbclient.util import ensure_async
except ImportError:
    # A python3 without nbclient (pyenv, say) ahead of Debian's on PATH: use Debian's.
    if sys.executable != "/usr/bin/python3" and Path("/usr/bin/python3").exists():
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    sys.exit("run_notebook.py needs nbclient: apt-get install python3-nbclient (or pip install nbclient)")

LATE_OUTPUT_WINDOW = 0.3  # seconds to keep reading after "idle"


class LateOutputClient(NotebookClient):
    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        idle = False
        while True:
            try:
                msg = await ensure_async(
                    self.kc.iopub_channel.get_msg(timeout=LATE_OUTPUT_WINDOW if idle else None)
                )
            except queue.Empty:
                return
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                idle = True


def deno_client(nb, source, allow_errors):
    """A client that runs nb in Deno's kernel, from the notebook's folder (so the kernel finds
    deno.json's import map), recording no timings."""
    return LateOutputClient(
        nb,
        kernel_name="deno",
        timeout=900,
        iopub_timeout=10,
        record_timing=False,
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(Path(source).parent.resolve())}},
    )


def coalesce_streams(outputs):
    """Joins consecutive writes to the same stream into one output, as Jupyter front ends show them."""
    merged = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (
            out.output_type == "stream"
            and prev is not None
            and prev.output_type == "stream"
            and prev.name == out.name
        ):
            prev.text += out.text
        else:
            merged.append(out)
    return merged


def write_atomic(nb, target):
    """Writes the notebook as lib/io/files.ts writes every file: a temporary file in the same folder,
    fsync, rename over the target, fsync the folder; an interrupted run leaves the old file whole."""
    tmp = target.with_name(target.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    source = Path(argv[1])
    target = Path(argv[2]) if len(argv) == 3 else source
    os.environ["NO_COLOR"] = "1"
    nb = nbformat.read(source, as_version=4)
    client = deno_client(nb, source, allow_errors=False)
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    write_atomic(nb, target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
