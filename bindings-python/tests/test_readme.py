"""Every Python example of README.md (the repository's) and of the package's README.md runs."""

import re
from pathlib import Path

from conftest import dsn

ROOT = Path(__file__).resolve().parents[2]


def blocks(readme):
    found = re.findall(r"```python\n(.*?)```", readme.read_text(), re.S)
    assert found, f"{readme} has Python examples"
    return found


def test_readme_python_examples_run(capsys, monkeypatch, server, orders):
    # The examples are written for the repository's root, where a newcomer runs them; the
    # PostgreSQL one reads the demo orders of the test server (conftest.py).
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("KPI_POSTGRES_DSN", dsn(server[0]))
    readme = ROOT / "README.md"
    for block in blocks(readme):
        exec(compile(block, str(readme), "exec"), {})
    out = capsys.readouterr().out
    assert "KPI_FORMULA 1 12" in out
    assert "sum(orders.amount where orders.status = 'completed')" in out and "[30.0, 20.0]" in out
    assert "[0.5]" in out
    assert f"pushed down to PostgreSQL at postgresql://kpi@127.0.0.1:{server[0]}/postgres" in out


def test_package_readme_example_runs(capsys):
    readme = ROOT / "bindings-python" / "README.md"
    for block in blocks(readme):
        exec(compile(block, str(readme), "exec"), {})
    assert "value" in capsys.readouterr().out
