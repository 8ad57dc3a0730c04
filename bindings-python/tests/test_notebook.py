"""The example notebook runs from top to bottom, as a newcomer would run it."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "notebooks" / "quickstart.ipynb"


def test_the_quickstart_notebook_runs(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "KPIs in" in text and "2024-12-31" in text
    shown = [o.get("data", {}) for o in outputs if o.output_type in ("execute_result", "display_data")]
    assert any("Perfect Order Fulfillment" in d.get("text/html", "") for d in shown), "the result shows itself as HTML"
    assert any("image/png" in d for d in shown), "the plot is shown inline"
    assert any("```mermaid" in d.get("text/markdown", "") for d in shown), "the diagram renders"
