"""``switchboard up --workers N``: the embedded default over several processes, over real sockets.

A whole conversation (verification by email and code, a refund confirmed by the customer) and
the web chat's live events cross every process; Ctrl+C stops every child, and so does killing
the parent outright. With three workers two orchestrator processes serve its port: staff and
customers are served whichever one a connection reaches, and one of them dying stops the rest.
Each test starts a deployment of its own, as each ends it; the conversation's deployment also
shows what the parent process imports.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shared.secrets import Secrets
from tests.behaviours.conftest import Customer, Deployment
from tests.channels.sse import collect, ticket_for
from tests.e2e.test_up_and_chat import Lines, _free_base_port

pytestmark = [pytest.mark.e2e]

CLI = [sys.executable, "-m", "orchestrator.cli"]


@dataclass
class Up:
    process: subprocess.Popen[str]
    lines: Lines
    base: str
    gateway: str
    data_dir: Path
    children: dict[str, int]


def _places(data_dir: Path, base: int) -> list[str]:
    return ["--data-dir", str(data_dir), "--base-port", str(base)]


def _start(tmp_path: Path, workers: int = 2, python_flags: tuple[str, ...] = ()) -> Up:
    base = _free_base_port()
    data_dir = tmp_path / "data"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "SWITCHBOARD_STREAM_LIFETIME_SECONDS": "3"}
    with (tmp_path / "up.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, *python_flags, *CLI[1:], "up", "--workers", str(workers), *_places(data_dir, base)],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            start_new_session=True,
        )
    lines = Lines(process)
    printed = lines.until(" processes ")
    children = {name: int(pid) for name, pid in re.findall(r"(\S+) \(pid (\d+)\)", printed[-1])}
    gateway = next(line.split()[-1] for line in printed if "governance gateway" in line).removesuffix("/mcp")
    return Up(process, lines, f"http://127.0.0.1:{base}", gateway, data_dir, children)


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting for its new parent to reap it counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _wait_gone(pids: list[int], timeout: float = 60.0) -> list[int]:
    """The pids still running after ``timeout`` (bounded wait for processes to exit)."""
    deadline = time.monotonic() + timeout
    while (left := [p for p in pids if not _gone(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _stop(started: Up) -> None:
    if started.process.poll() is None:
        started.process.send_signal(signal.SIGINT)
        started.process.wait(timeout=60)
    for pid in _wait_gone(list(started.children.values()), timeout=30):
        os.kill(pid, signal.SIGKILL)
    started.lines.drain()
    if started.process.stdout is not None:
        started.process.stdout.close()


@pytest.fixture
def up(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Up]:
    started = _start(tmp_path, getattr(request, "param", 2))
    try:
        yield started
    finally:
        _stop(started)


async def _conversation_and_events(up: Up) -> None:
    deployment = Deployment(up.base, up.gateway, up.data_dir, pick=0)
    candidates = await deployment.customers(has_duplicate_charge=True, has_recent_sim_swap=False)
    async with httpx.AsyncClient(base_url=up.base, timeout=60) as http:
        refunded = None
        for customer in candidates[:10]:
            chat = await Customer(http, deployment).start()
            proposal = await chat.verify(customer, "I was charged twice, please refund the duplicate")
            assert proposal["agent"] == "payment" and proposal["status"] == "input-required", proposal
            answer = await chat.say("yes please")
            if not answer["data"].get("approval_pending"):  # above the threshold it waits for a person
                refunded = (chat, answer)
                break
        assert refunded is not None, "no duplicate charge under the approval threshold"
        chat, answer = refunded
        assert answer["status"] == "completed" and answer["data"].get("refund_id"), answer

        # The web chat's live events: a turn shows as working, its entries, then idle.
        transcript = (await chat.state())["transcript"]
        ticket = await ticket_for(http, chat.conversation_id, chat.token)
        opened = asyncio.Event()
        watch = asyncio.create_task(
            collect(
                http,
                chat.conversation_id,
                ticket,
                after=transcript[-1]["seq"],
                opened=opened,
                until=lambda ev: ev[-1][0] == "idle",
                timeout=60,
            )
        )
        async with asyncio.timeout(30):
            await opened.wait()
        turn = await http.post(
            f"/api/conversations/{chat.conversation_id}/turns",
            json={"text": "what does my bill say?"},
            headers={"Authorization": f"Bearer {chat.token}"},
        )
        assert turn.status_code == 200, turn.text
        events = await watch
        names = [name for name, _ in events]
        assert names[0] == "working" and names[-1] == "idle", names
        assert [data["role"] for name, data in events if name == "entry"] == ["customer", "agent"]


def _zygote(up: Up) -> int:
    """The process the children were forked from (their parent), which ``up`` started."""
    [zygote] = {_parent_of(pid) for pid in up.children.values()}
    assert _parent_of(zygote) == up.process.pid
    return zygote


def _parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def test_a_conversation_crosses_the_processes_and_ctrl_c_stops_every_child(tmp_path: Path) -> None:
    """Also: the parent prepares the data directory, binds the sockets and watches its children, and
    whatever it imports before they start delays every one of them. ``-X importtime`` is not
    inherited, so the log's import lines are the parent's, from its start through a conversation
    to its stop. Seeding a new data directory needs more, once: ``prepare`` does that first, as a
    deployment's warm start finds it done."""
    subprocess.run([*CLI, "prepare", "--data-dir", str(tmp_path / "data")], check=True, capture_output=True)
    up = _start(tmp_path, python_flags=("-X", "importtime"))
    try:
        assert set(up.children) == {"systems", "agents", "orchestrator"}
        zygote = _zygote(up)
        # Outside the parent's process group, which a terminal's Ctrl+C reaches as a whole.
        assert {os.getpgid(pid) for pid in [zygote, *up.children.values()]} == {os.getpgid(zygote)}
        assert os.getpgid(zygote) != os.getpgid(up.process.pid)
        assert httpx.get(f"{up.base}/healthz", timeout=10).status_code == 200
        asyncio.run(_conversation_and_events(up))

        os.killpg(os.getpgid(up.process.pid), signal.SIGINT)  # as a terminal sends Ctrl+C
        up.lines.until("Stopped.")
        assert up.process.wait(timeout=60) == 0
        assert _wait_gone([*up.children.values(), zygote], timeout=0) == []  # stopped before the parent said so
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{up.base}/healthz", timeout=5)
    finally:
        _stop(up)
    log = (tmp_path / "up.log").read_text().splitlines()
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in log if line.startswith("import time:")}
    assert "orchestrator" in imported  # the log holds the parent's imports
    assert imported & {"uvicorn", "sqlalchemy", "httpx", "a2a", "mcp", "langgraph", "numpy"} == set()


def test_killing_the_parent_leaves_no_child_behind(up: Up) -> None:
    children = [*up.children.values(), _zygote(up)]
    assert _wait_gone(children, timeout=0) == children  # all running
    up.process.kill()
    up.process.wait(timeout=30)
    assert _wait_gone(children) == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{up.base}/healthz", timeout=5)


async def _served_by_either_process(up: Up) -> None:
    """Every request on a new connection: the kernel hands each to either orchestrator process."""
    secrets = Secrets.load_or_create(up.data_dir)
    name, token = secrets.staff_token("compliance")
    deployment = Deployment(up.base, up.gateway, up.data_dir, pick=0)
    [customer] = (await deployment.customers(has_duplicate_charge=False))[:1]
    async with httpx.AsyncClient(
        base_url=up.base, timeout=60, limits=httpx.Limits(max_keepalive_connections=0)
    ) as http:
        chat = await Customer(http, deployment).start()
        answer = await chat.verify(customer, "what does my bill say?")
        assert answer["agent"] == "billing", answer
        page = await http.get("/console/sign-in")
        form_token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = await http.post("/console/sign-in", data={"csrf_token": form_token, "name": name, "token": token})
        assert signed.status_code == 303, signed.text
        for _ in range(6):
            assert (await http.get("/api/console/session")).json()["name"] == name
        load = (await http.get("/healthz")).json()["load"]
        assert (load["workers"], load["total_capacity"]) == (2, 32), load


@pytest.mark.parametrize("up", [3], indirect=True)
def test_two_orchestrator_processes_serve_the_port_and_one_dying_stops_the_rest(up: Up) -> None:
    assert set(up.children) == {"systems", "agents", "orchestrator-1", "orchestrator-2"}
    asyncio.run(_served_by_either_process(up))

    os.kill(up.children["orchestrator-2"], signal.SIGKILL)
    up.lines.until("process exited")
    assert up.process.wait(timeout=60) == 1
    assert _wait_gone(list(up.children.values())) == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{up.base}/healthz", timeout=5)
