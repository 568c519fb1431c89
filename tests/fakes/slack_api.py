"""A fake Slack Web API (plus response_url hooks and a Socket Mode websocket) on 127.0.0.1, port 0.

The real slack_sdk clients talk to it over HTTP, so their serialisation, auth headers and retry
handlers are exercised for real. Every call is recorded; tests await the calls they expect
(`await fake.wait_for("chat.postMessage")`) instead of sleeping.

    async with FakeSlackApi() as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"

Handler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class Call:
    method: str  # "chat.postMessage", or "response_url" for a hook post
    args: dict[str, Any]
    token: str | None = None
    path: str = ""
    response: dict[str, Any] = field(default_factory=dict)  # what the fake answered
    peer: str = ""  # the client's address and port: which connection the call came over

    def __getitem__(self, key: str) -> Any:
        return self.args[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.args.get(key, default)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.args.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else blocks

    @property
    def view(self) -> dict[str, Any]:
        view = self.args.get("view") or {}
        return json.loads(view) if isinstance(view, str) else view


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


class FakeSlackApi:
    """Plays the parts of Slack a bot talks to; answers like Slack, records everything."""

    def __init__(self, port: int = 0) -> None:
        self.calls: list[Call] = []
        self.socket_acks: list[dict[str, Any]] = []
        self.replies: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (channel, thread_ts) -> messages
        self.usergroups: dict[str, list[str]] = {}
        self.uploads: dict[str, bytes] = {}  # file id -> the bytes posted to its upload URL (files upload v2)
        self._files: dict[str, dict[str, Any]] = {}  # file id -> what files.getUploadURLExternal was told
        self.channel_names: dict[str, str] = {}  # channel id -> name, for conversations.info
        self._failures: dict[str, list[_Failure]] = {}
        self._handlers: dict[str, Handler] = {}
        self._changed = asyncio.Condition()
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_connected = asyncio.Event()
        self.port = port  # 0: any free port (tests); the bound port is read back after start

    # -- lifetime ------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlackApi:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/hooks/{hook}", self._hook)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    # -- test controls ---------------------------------------------------------------------------------

    def fail(self, method: str, *, status: int = 200, error: str = "internal_error", times: int = 1,
             retry_after: int | None = None) -> None:
        """Make the next `times` calls of `method` fail (ok=false, or an HTTP status such as 429)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        body = {"ok": False, "error": "ratelimited" if status == 429 else error}
        self._failures.setdefault(method, []).append(_Failure(status, body, headers, times))

    def on(self, method: str, handler: Handler) -> None:
        """Answer `method` with `handler(args)` instead of the default."""
        self._handlers[method] = handler

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0,
                       where: Callable[[Call], bool] | None = None) -> list[Call]:
        """Wait until `method` has been called at least `count` times (matching `where`)."""

        def matching() -> list[Call]:
            return [c for c in self.called(method) if where is None or where(c)]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(matching()) >= count), timeout)
        return matching()

    # -- socket mode -------------------------------------------------------------------------------------

    async def wait_socket(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self._socket_connected.wait(), timeout)

    async def send_envelope(self, envelope: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        """Push a Socket Mode envelope to the connected client; return its acknowledgement."""
        await self.wait_socket(timeout)
        envelope_id = envelope["envelope_id"]
        await self._sockets[-1].send_str(json.dumps(envelope))
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(
                lambda: any(a.get("envelope_id") == envelope_id for a in self.socket_acks)), timeout)
        return next(a for a in self.socket_acks if a.get("envelope_id") == envelope_id)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1,
                                      "debug_info": {"host": "fake"}, "connection_info": {"app_id": "A1"}}))
        self._socket_connected.set()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._record_ack(json.loads(message.data))
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self._socket_connected.clear()
        return ws

    async def _record_ack(self, ack: dict[str, Any]) -> None:
        async with self._changed:
            self.socket_acks.append(ack)
            self._changed.notify_all()

    # -- HTTP ------------------------------------------------------------------------------------------------

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    @staticmethod
    async def _args(request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        body = await request.read()
        if body:
            if request.content_type == "application/json":
                args.update(json.loads(body))
            else:
                args.update(parse_qsl(body.decode(), keep_blank_values=True))
        return args

    async def _hook(self, request: web.Request) -> web.Response:
        await self._record(Call("response_url", await self._args(request), path=request.path, peer=_peer(request)))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        """Step 2 of files upload v2: the raw bytes, posted to the URL step 1 handed out."""
        file_id = request.match_info["file_id"]
        data = await request.read()
        if file_id not in self._files:
            return web.Response(status=404, text="unknown upload")
        self.uploads[file_id] = data
        await self._record(Call("upload", {"file_id": file_id, "length": len(data)}, path=request.path))
        return web.Response(text=f"OK - {len(data)}")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or args.get("token")
        call = Call(method, args, token, request.path, peer=_peer(request))
        await self._record(call)
        queue = self._failures.get(method)
        if queue:
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return web.json_response(failure.body, status=failure.status, headers=failure.headers)
        if not token:
            return web.json_response({"ok": False, "error": "not_authed"})
        handler = self._handlers.get(method) or getattr(self, "_" + method.replace(".", "_"), None)
        call.response = {"ok": True} if handler is None else handler(args)
        return web.json_response(call.response)

    # default answers, shaped like Slack's ------------------------------------------------------------

    def next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "supportbot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": args.get("channel"), "ts": self.next_ts(),
                "message": {"text": args.get("text"), "bot_id": BOT_ID}}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text")}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self.next_ts()}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        messages = self.replies.get((str(args.get("channel")), str(args.get("ts"))), [])
        return {"ok": True, "messages": messages, "has_more": False}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users") or "")
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": f"D{users.split(',')[0]}"}}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if channel not in self.channel_names:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": channel, "name": self.channel_names[channel], "is_channel": True}}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = str(args.get("usergroup"))
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.usergroups[group]}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V1"}}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "VHOME"}}

    # files upload v2: getUploadURLExternal -> POST the bytes -> completeUploadExternal

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self._files) + 1:06d}"
        self._files[file_id] = {"filename": args["filename"], "length": int(args["length"])}
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        listed = json.loads(files) if isinstance(files, str) else files or []
        done = []
        for item in listed:
            file_id = item.get("id")
            if file_id not in self.uploads:
                return {"ok": False, "error": "file_not_found"}
            if len(self.uploads[file_id]) != self._files[file_id]["length"]:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            done.append({"id": file_id, "name": self._files[file_id]["filename"], "title": item.get("title"),
                         "size": len(self.uploads[file_id])})
        return {"ok": True, "files": done}

    def uploaded(self) -> list[tuple[Call, bytes]]:
        """Each completed upload: its files.completeUploadExternal call and the bytes of its file."""
        out = []
        for call in self.called("files.completeUploadExternal"):
            if call.response.get("ok"):
                out += [(call, self.uploads[f["id"]]) for f in call.response["files"]]
        return out



async def _serve_forever(port: int) -> None:
    async with FakeSlackApi(port) as fake:
        print(f"fake Slack Web API at {fake.base_url} (response_url hooks under /hooks/...)", flush=True)
        seen = 0
        while True:
            async with fake._changed:
                await fake._changed.wait_for(lambda seen=seen: len(fake.calls) > seen)
            for call in fake.calls[seen:]:
                shown = {k: v for k, v in call.args.items() if k not in ("blocks", "view")}
                print(f"{call.method} {json.dumps(shown)[:300]}", flush=True)
            seen = len(fake.calls)


if __name__ == "__main__":
    # `python -m tests.fakes.slack_api --port 8901`: a fake Slack for trying the bot by hand.
    import argparse

    parser = argparse.ArgumentParser(description="fake Slack Web API for trying supportbot by hand")
    parser.add_argument("--port", type=int, default=0)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(parser.parse_args().port))


def _peer(request: web.Request) -> str:
    peer = request.transport.get_extra_info("peername") if request.transport is not None else None
    return f"{peer[0]}:{peer[1]}" if peer else ""
