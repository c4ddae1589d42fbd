"""The A2A 1.0 error codes and card rules as any client sees them on the wire, on both bindings.

These run against one specialist behind the stand-in gateway: what is checked is the protocol
surface (codes, card, tokens), which does not depend on the systems behind the gateway.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from shared.service_auth import audiences
from tests.agents.conftest import AUTHORITY, WAIT, StartSpecialist, handoff_metadata


class Wire:
    """A raw A2A 1.0 client of one specialist, both bindings: what any client sees on the wire."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def rpc(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        response = await self.http.post("/a2a/jsonrpc", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def rest(self, method: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
        return await self.http.request(method, f"/a2a/rest{path}", json=body)


@contextlib.asynccontextmanager
async def _wire(
    base_url: str, agent: str, *, caller: str = "orchestrator", version: str = "1.0"
) -> AsyncIterator[Wire]:
    headers = {"A2A-Version": version, "Authorization": f"Bearer {AUTHORITY.mint(audiences.agent(agent), sub=caller)}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=WAIT) as http:
        yield Wire(http)


def _wire_message(text: str, skill: str) -> dict[str, Any]:
    return {
        "role": "ROLE_USER",
        "messageId": uuid.uuid4().hex,
        "parts": [{"text": text}],
        "metadata": handoff_metadata(skill),
    }


async def test_wire_codes_for_tasks_on_both_bindings(start_specialist: StartSpecialist) -> None:
    billing = await start_specialist("billing")
    async with _wire(billing.base_url, "billing") as wire:
        done = await wire.rpc("SendMessage", {"message": _wire_message("my bill", "explain-bill")})
        task = done["result"]["task"]
        assert task["status"]["state"] == "TASK_STATE_COMPLETED"
        task_id = task["id"]

        # GetTask of an unknown task: TaskNotFoundError (-32001; HTTP 404).
        missing = await wire.rpc("GetTask", {"id": "no-such-task"})
        assert missing["error"]["code"] == -32001, missing
        rest_missing = await wire.rest("GET", "/tasks/no-such-task")
        assert rest_missing.status_code == 404 and "TASK_NOT_FOUND" in rest_missing.text

        # CancelTask of a finished task: TaskNotCancelableError (-32002; HTTP 400).
        finished = await wire.rpc("CancelTask", {"id": task_id})
        assert finished["error"]["code"] == -32002, finished
        rest_finished = await wire.rest("POST", f"/tasks/{task_id}:cancel", {})
        assert rest_finished.status_code == 400 and "TASK_NOT_CANCELABLE" in rest_finished.text

        # A part of a media type the card does not accept: ContentTypeNotSupportedError (-32005).
        image = _wire_message("my bill", "explain-bill")
        image["parts"] = [{"text": "my bill"}, {"raw": "iVBORw0K", "mediaType": "image/png"}]
        unsupported = await wire.rpc("SendMessage", {"message": image})
        assert unsupported["error"]["code"] == -32005, unsupported
        rest_unsupported = await wire.rest("POST", "/message:send", {"message": image})
        assert rest_unsupported.status_code == 400 and "CONTENT_TYPE_NOT_SUPPORTED" in rest_unsupported.text

        # What the card says the agent does not offer: push notifications (-32003); an extended card is an
        # unsupported operation (-32004; -32007 is for a card that declares one the agent lacks).
        push = await wire.rpc(
            "CreateTaskPushNotificationConfig", {"taskId": task_id, "url": "https://example.com/hook", "id": "p-1"}
        )
        assert push["error"]["code"] == -32003, push
        extended = await wire.rpc("GetExtendedAgentCard", {})
        assert extended["error"]["code"] == -32004, extended

        # A method the protocol does not have: -32601.
        unknown = await wire.rpc("message/send", {"message": _wire_message("my bill", "explain-bill")})
        assert unknown["error"]["code"] == -32601, unknown

    # Tasks belong to the client that created them: another client is told there is no such task.
    async with _wire(billing.base_url, "billing", caller="external:partner") as stranger:
        hidden = await stranger.rpc("GetTask", {"id": task_id})
        assert hidden["error"]["code"] == -32001, hidden
        assert (await stranger.rest("GET", f"/tasks/{task_id}")).status_code == 404

    # A protocol version the agent does not speak: VersionNotSupportedError (-32009).
    async with _wire(billing.base_url, "billing", version="0.9") as old:
        refused = await old.rpc("GetTask", {"id": task_id})
        assert refused["error"]["code"] == -32009, refused


async def test_the_card_says_how_to_get_a_token_and_is_served_without_one(start_specialist: StartSpecialist) -> None:
    billing = await start_specialist("billing")
    async with httpx.AsyncClient(base_url=billing.base_url, timeout=WAIT) as http:
        card = (await http.get("/.well-known/agent-card.json")).json()
        refused = await http.post("/a2a/rest/message:send", json={"message": _wire_message("hi", "explain-bill")})
    (name,) = card["securitySchemes"]
    flow = card["securitySchemes"][name]["oauth2SecurityScheme"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"].endswith(audiences.TOKEN_PATH)
    assert list(flow["scopes"]) == [audiences.agent("billing")]
    assert card["securityRequirements"] == [{"schemes": {name: {}}}]
    assert card["defaultInputModes"] == ["text/plain"]
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
