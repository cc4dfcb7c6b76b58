"""Kernels started ahead: while one notebook runs, the next one's kernel starts on the other core.

A replay of the study (every result from the fit cache) spends a third of its time starting six kernels and importing
the notebooks' libraries (Keras among them): ``benchmarks/results/replay_profile.md``. `Ahead` starts the kernel of
the notebook that comes next while the current one runs, in the notebooks' folder and the run's environment, and has
it run what that notebook's first code cell imports and sets up (its ``import`` lines and its call of
``helpers.setup_notebook``: `warm_up_of`; output discarded, nothing kept in its history); the runner then executes that
notebook in it, every cell from the first, as in a kernel of its own (importing again costs nothing). A kernel that
failed to start is left out: its notebook starts one as before.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import threading
from concurrent.futures import Future
from pathlib import Path

KERNEL = "python3"


def _setup_call(node: ast.stmt) -> bool:
    value = node.value if isinstance(node, (ast.Assign, ast.Expr)) else None
    return isinstance(value, ast.Call) and ast.unparse(value.func) == "helpers.setup_notebook"


def warm_up_of(notebook: Path) -> str:
    """The statements of a notebook's first code cell that a kernel can run ahead: its imports and its call of
    ``helpers.setup_notebook`` (anything else in the cell is left out)."""
    import nbformat

    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    if not cells:
        return ""
    try:
        tree = ast.parse(cells[0].source)
    except SyntaxError:
        return ""
    return "\n".join(ast.unparse(node) for node in tree.body
                     if isinstance(node, (ast.Import, ast.ImportFrom)) or _setup_call(node))


def _start(notebook: Path):
    """A kernel started in ``notebook``'s folder, having run the notebook's imports; its manager."""
    from jupyter_client.blocking import BlockingKernelClient
    from jupyter_client.manager import AsyncKernelManager

    km = AsyncKernelManager(kernel_name=KERNEL)
    asyncio.run(km.start_kernel(cwd=str(notebook.parent)))
    client = BlockingKernelClient()
    client.load_connection_info(km.get_connection_info())
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        reply = client.execute_interactive(warm_up_of(notebook), store_history=False, timeout=300,
                                           output_hook=lambda _: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError("the warm-up failed")  # the notebook will say why, in a kernel of its own
    except BaseException:
        Ahead.stop(km)
        raise
    finally:
        client.stop_channels()
    return km


class Ahead:
    """The kernels of a run's notebooks, each started while the one before it runs (`start`), taken by its notebook
    (`take`), and shut down after it (`stop`, `close`)."""

    def __init__(self, folder: Path, notebooks: list[str]):
        self.folder, self.notebooks = folder, list(notebooks)
        self._ahead: dict[str, Future] = {}

    def start_after(self, name: str) -> None:
        """Start the kernel of the notebook after ``name`` in the run (none after the last), in a daemon thread: a run
        that stops does not wait for it."""
        if name not in self.notebooks or self.notebooks.index(name) + 1 == len(self.notebooks):
            return
        following = self.notebooks[self.notebooks.index(name) + 1]
        future: Future = Future()

        def start() -> None:
            try:
                future.set_result(_start(self.folder / following))
            except BaseException as err:  # noqa: BLE001 -- handed to `take`
                future.set_exception(err)

        self._ahead[following] = future
        threading.Thread(target=start, name=f"kernel-ahead-{following}", daemon=True).start()

    def take(self, name: str):
        """The kernel manager started for ``name``, or None (not started ahead, or its start failed)."""
        future = self._ahead.pop(name, None)
        if future is None:
            return None
        try:
            return future.result()
        except Exception:  # noqa: BLE001 -- the notebook starts a kernel of its own, as without this class
            return None

    @staticmethod
    def stop(km) -> None:
        """Shut a taken kernel down."""
        with contextlib.suppress(Exception):
            asyncio.run(km.shutdown_kernel(now=True))

    def close(self) -> None:
        """Shut down every kernel started ahead and not taken: now where it has started, else once it has (a run
        stopped by a failure or Ctrl-C does not wait for a kernel's start)."""
        def stop_started(future: Future) -> None:
            if future.exception() is None:
                self.stop(future.result())

        for future in self._ahead.values():
            future.add_done_callback(stop_started)
        self._ahead.clear()
