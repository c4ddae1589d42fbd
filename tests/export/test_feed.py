"""The continuous vCon feed: finished conversations only, each delivered once across restarts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orchestrator.cli import main
from orchestrator.export import Feed, FileSink, WebhookSink, vcon_uuid
from shared.errors import ServiceUnavailable
from shared.serving import serving
from tests.export.conftest import Written

NOW = 10_000.0  # the fixture's quiet conversations were last updated at 1,000 s and 2,000 s


def _feed(written: Written, sink, idle: float = 3_600) -> Feed:
    return Feed(data_dir=written.data_dir, sink=sink, cursor_path=written.data_dir / "feed.cursor", idle_seconds=idle)


def test_only_finished_conversations_are_delivered_and_never_twice(written: Written) -> None:
    out = written.data_dir / "feed.ndjson"
    # Idle for an hour: the escalated one (idle 9,000 s), the quiet open one (8,000 s), the closed one.
    assert _feed(written, FileSink(out), idle=8_500).poll(now=NOW) == [written.escalated, written.closed]
    assert _feed(written, FileSink(out), idle=7_000).poll(now=NOW) == [written.open_quiet]
    assert _feed(written, FileSink(out), idle=0).poll(now=NOW) == []  # a restart sends nothing again
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [v["uuid"] for v in lines] == [vcon_uuid(c) for c in (written.escalated, written.closed, written.open_quiet)]


def test_a_crash_between_writing_and_recording_does_not_duplicate(written: Written) -> None:
    out = written.data_dir / "feed.ndjson"
    _feed(written, FileSink(out), idle=0).poll(now=NOW)
    (written.data_dir / "feed.cursor").unlink()  # as if the cursor commit never happened
    out.write_text(out.read_text() + '{"torn": ')  # and the last write was torn
    assert len(_feed(written, FileSink(out), idle=0).poll(now=NOW)) == 3  # recorded again ...
    assert len(out.read_text().split("\n")) - 1 == 3  # ... but not written twice


async def test_webhook_gets_each_vcon_once_with_an_idempotency_key(written: Written) -> None:
    received: list[tuple[str, dict]] = []
    fail = {"on": False}

    async def hook(request: Request) -> Response:
        if fail["on"]:
            return Response(status_code=503)
        received.append((request.headers["idempotency-key"], json.loads(await request.body())))
        return Response(status_code=202)

    async with serving(Starlette(routes=[Route("/vcon", hook, methods=["POST"])])) as url:
        sink = WebhookSink(f"{url}/vcon")
        fail["on"] = True
        with pytest.raises(ServiceUnavailable, match="HTTP 503"):
            await asyncio.to_thread(_feed(written, sink, idle=0).poll, NOW)
        fail["on"] = False
        sent = await asyncio.to_thread(_feed(written, sink, idle=0).poll, NOW)
        again = await asyncio.to_thread(_feed(written, sink, idle=0).poll, NOW)
        sink.close()
    assert len(sent) == 3 and again == []
    assert [key for key, _ in received] == [body["uuid"] for _, body in received]
    assert len(received) == 3


def test_webhook_that_is_down_is_a_clear_error(written: Written) -> None:
    sink = WebhookSink("http://127.0.0.1:9/vcon", timeout=2)
    with pytest.raises(ServiceUnavailable, match="did not answer"):
        _feed(written, sink, idle=0).poll(now=NOW)
    sink.close()


def _export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(["export", "vcon", *args])
    except SystemExit as exc:  # argparse rejects bad flags this way
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "choose one of"),
        (("--conversation", "conv-x", "--follow"), "choose one of"),
        (("--follow", "--once"), "exactly one of --out"),
        (("--since", "yesterday"), "not an ISO date"),
        (("--redact", "all"), "invalid choice"),
        (("--conversation", "conv-nope"), "no conversation 'conv-nope'"),
    ],
)
def test_cli_bad_input(
    written: Written, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, _, err = _export(capsys, "--data-dir", str(written.data_dir), *args)
    assert code == 2 and message in err, err


def test_cli_range_and_follow_once(written: Written, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _export(capsys, "--data-dir", str(written.data_dir), "--since", "1970-01-01T00:00:00+00:00")
    assert code == 0 and len(out.splitlines()) == 3
    feed = tmp_path / "feed.ndjson"
    for _ in range(2):
        args = ("--follow", "--once", "--idle-minutes", "0", "--out", str(feed))
        code, _, err = _export(capsys, "--data-dir", str(written.data_dir), *args)
        assert code == 0, err
    assert len(feed.read_text().splitlines()) == 3
    assert (tmp_path / "feed.ndjson.cursor").exists()
