"""The script that rewrites the figures in docs/ from the benchmarks that print them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import regenerate_docs

ROOT = Path(__file__).resolve().parents[2]

PAGE = """# Speed

Some prose that stays.

<!-- figures: benchmarks/tiny.py --turns 7 -->
```text
old figures
```
<!-- /figures -->

More prose.
"""


def _tree(tmp_path: Path, script: str) -> Path:
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "tiny.py").write_text(script, encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "speed.md").write_text(PAGE, encoding="utf-8")
    return tmp_path


def test_a_block_gets_what_its_benchmark_prints_and_the_prose_stays(tmp_path: Path) -> None:
    root = _tree(tmp_path, "import sys\nprint('turns/s:', 6 * int(sys.argv[2]))\n")
    assert regenerate_docs.main(["--root", str(root)]) == 0
    page = (root / "docs" / "speed.md").read_text(encoding="utf-8")
    assert "turns/s: 42" in page
    assert "old figures" not in page
    assert page.startswith("# Speed\n\nSome prose that stays.\n")
    assert page.endswith("<!-- /figures -->\n\nMore prose.\n")
    assert "cores, load average" in page


def test_a_crashed_benchmark_keeps_the_old_figures_and_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(tmp_path, "raise RuntimeError('the stack did not start')\n")
    assert regenerate_docs.main(["--root", str(root)]) == 1
    assert (root / "docs" / "speed.md").read_text(encoding="utf-8") == PAGE
    assert "the stack did not start" in capsys.readouterr().out


def test_only_benchmark_scripts_run(tmp_path: Path) -> None:
    root = _tree(tmp_path, "print('x')\n")
    page = root / "docs" / "speed.md"
    page.write_text(PAGE.replace("benchmarks/tiny.py --turns 7", "rm -rf /"), encoding="utf-8")
    assert regenerate_docs.main(["--root", str(root)]) == 1
    assert "rm -rf" in page.read_text(encoding="utf-8")


def test_every_block_in_the_docs_names_a_benchmark_that_exists() -> None:
    blocks = regenerate_docs.find_blocks(ROOT / "docs")
    assert blocks, "the docs quote no benchmark figures through blocks"
    for block in blocks:
        block.argv(ROOT)  # raises for a command that is not an existing benchmark


def test_list_names_each_block_without_running_it() -> None:
    command = [sys.executable, "benchmarks/regenerate_docs.py", "--list"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    assert "docs/" in done.stdout and "benchmarks/" in done.stdout


def test_a_missed_target_is_published_with_its_exit_status(tmp_path: Path) -> None:
    root = _tree(tmp_path, "print('p99 900 ms   target <= 500 ms   MISSED')\nraise SystemExit(1)\n")
    assert regenerate_docs.main(["--root", str(root)]) == 0
    page = (root / "docs" / "speed.md").read_text(encoding="utf-8")
    assert "p99 900 ms" in page and "exit status 1: a target was missed" in page
