"""Rerun the benchmarks behind the figures in ``docs/`` and write what they print into the docs.

A figure block in a Markdown page names the benchmark run that produced it::

    <!-- figures: benchmarks/refund_turn.py --samples 80 -->
    ```text
    (what the run printed)
    ```
    <!-- /figures -->

This script finds every block, runs its command from the repository root with this Python, and
replaces the block's text with the new output, headed by when and on how many cores it ran and
the load average before it started (a busy machine inflates every wall-clock figure). Prose
around a block describes the figures; the numbers themselves live only in blocks, so they are
never older than the last run.

    python benchmarks/regenerate_docs.py                  # every block, one after another
    python benchmarks/regenerate_docs.py --only load.py   # the blocks whose command contains it
    python benchmarks/regenerate_docs.py --list           # what would run, without running

A benchmark that misses a target exits non-zero; its figures are written all the same, with
the exit status in the header. A run that crashes or prints nothing keeps the block's old text;
the script goes on with the rest and exits 1.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BLOCK = re.compile(
    r"(?P<open><!-- figures: (?P<command>[^\n]*?) -->\n)(?P<body>.*?)(?P<close><!-- /figures -->)",
    re.DOTALL,
)


class FigureError(Exception):
    """A block that cannot be run: its command is not a benchmark of this repository."""


@dataclass(frozen=True)
class Block:
    """One figure block: the page it is on and the benchmark command it names."""

    page: Path
    command: str

    def argv(self, root: Path) -> list[str]:
        """The command as arguments for this Python; only scripts under ``benchmarks/`` run."""
        words = shlex.split(self.command)
        if words and words[0] == "python":
            words = words[1:]
        if not words or not re.fullmatch(r"benchmarks/[a-z0-9_]+\.py", words[0]):
            raise FigureError(f"{self.page.name}: '{self.command}' is not a script under benchmarks/")
        if not (root / words[0]).is_file():
            raise FigureError(f"{self.page.name}: {words[0]} does not exist")
        return [sys.executable, *words]


def find_blocks(docs: Path) -> list[Block]:
    """Every figure block of every page under ``docs``, in page order."""
    return [
        Block(page, match["command"].strip())
        for page in sorted(docs.rglob("*.md"))
        for match in BLOCK.finditer(page.read_text(encoding="utf-8"))
    ]


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def render(output: str, load: str) -> str:
    """The new body of a block: when and on what it ran, then what it printed."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = f"# {stamp}, {os.cpu_count()} cores, load average {load} at the start"
    fence = "````" if "```" in output else "```"
    return f"{fence}text\n{header}\n{output.rstrip()}\n{fence}\n"


def run(block: Block, root: Path) -> str:
    """Run a block's benchmark and return the new body; raise FigureError if it fails."""
    argv = block.argv(root)
    load = load_average()  # before the run adds to it
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        argv, cwd=root, env=env, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    # A benchmark exits 1 when a figure misses its target: that is a result to publish. A crash
    # (a traceback, or nothing printed) is not, and the old figures stay.
    if "Traceback (most recent call last)" in done.stderr or not done.stdout.strip():
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise FigureError(f"{block.command} exited {done.returncode}:\n{tail}")
    if done.returncode != 0:
        load = f"{load}; exit status {done.returncode}: a target was missed"
    return render(done.stdout, load)


def replace(page: Path, command: str, body: str) -> None:
    """Put ``body`` into the page's block for ``command``; the rest of the page is untouched."""
    text = page.read_text(encoding="utf-8")

    def swap(match: re.Match[str]) -> str:
        if match["command"].strip() != command:
            return match.group(0)
        return f"{match['open']}{body}{match['close']}"

    page.write_text(BLOCK.sub(swap, text), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run only the blocks whose command contains this text")
    parser.add_argument("--list", action="store_true", help="list the blocks and their commands, run nothing")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository root (default: this checkout)")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    blocks = [b for b in find_blocks(root / "docs") if args.only is None or args.only in b.command]
    if not blocks:
        print("no figure blocks match" if args.only else f"no figure blocks under {root / 'docs'}")
        return 1 if args.only else 0
    failed = 0
    for index, block in enumerate(blocks, 1):
        where = block.page.relative_to(root)
        if args.list:
            print(f"{where}: {block.command}")
            continue
        print(f"[{index}/{len(blocks)}] {block.command}  ({where}) ...", flush=True)
        started = time.monotonic()
        try:
            body = run(block, root)
        except FigureError as error:
            failed += 1
            print(f"  failed, the block keeps its old figures: {error}", flush=True)
            continue
        replace(block.page, block.command, body)
        print(f"  written in {time.monotonic() - started:.0f} s", flush=True)
    if failed:
        print(f"{failed} of {len(blocks)} runs failed; rerun them with --only once fixed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
