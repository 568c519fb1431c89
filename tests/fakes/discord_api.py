"""A fake Discord (REST API and gateway websocket) on 127.0.0.1, port 0, for the real discord.py client.

The bot reaches it through the `DISCORD_API_URL` / `DISCORD_GATEWAY_URL` seams, so discord.py's own
serialisation, auth headers, gateway handshake, interaction handling and view dispatch run for real.
Every REST call is recorded; tests await the calls they expect instead of sleeping. Like Discord,
it refuses messages that break the documented limits (400, code 50035), so no test can pass with an
over-long message.

    async with FakeDiscord() as fake:
        ...start the bot with DISCORD_API_URL=fake.api_url, DISCORD_GATEWAY_URL=fake.gateway_url...
        await fake.wait_identified()
        await fake.send_message("API Error: 529 ...", author=ALICE)
        [call] = await fake.wait_for("POST", r"/channels/\\d+/messages")

The world: one guild with #general, #random and #staff, an existing thread under #general, a staff
role, a "Moderators" role with Manage Server, people (ALICE, BOB, CAROL staff, DAVE moderator) and
another bot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TOKEN = "fake-discord-bot-token-0123456789"
API_VERSION = 10
DISCORD_EPOCH_MS = 1420070400000


def _snowflake(moment: dt.datetime, sequence: int) -> int:
    return ((int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) + (sequence & 0x3FFFFF)


_BASE = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
APP_ID = _snowflake(_BASE, 1)
BOT_ID = _snowflake(_BASE, 2)
GUILD_ID = _snowflake(_BASE, 3)
OWNER_ID = _snowflake(_BASE, 4)
GENERAL = _snowflake(_BASE, 10)
RANDOM = _snowflake(_BASE, 11)
STAFF_CHANNEL = _snowflake(_BASE, 12)
HELP_THREAD = _snowflake(_BASE, 13)  # an existing thread under #general
QUIET_THREAD = _snowflake(_BASE, 14)  # another one
STAFF_ROLE = _snowflake(_BASE, 20)
MODS_ROLE = _snowflake(_BASE, 21)
BOT_ROLE = _snowflake(_BASE, 22)
ALICE = _snowflake(_BASE, 30)
BOB = _snowflake(_BASE, 31)
CAROL = _snowflake(_BASE, 32)  # has the staff role
DAVE = _snowflake(_BASE, 33)  # moderator: Manage Server
OTHER_BOT = _snowflake(_BASE, 39)

# Permission bits (https://discord.com/developers/docs/topics/permissions)
ADD_REACTIONS, VIEW_CHANNEL, SEND_MESSAGES = 1 << 6, 1 << 10, 1 << 11
EMBED_LINKS, READ_HISTORY, MANAGE_GUILD = 1 << 14, 1 << 16, 1 << 5
CREATE_PUBLIC_THREADS, SEND_IN_THREADS = 1 << 35, 1 << 38
EVERYONE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | READ_HISTORY | ADD_REACTIONS | EMBED_LINKS | SEND_IN_THREADS
BOT_PERMISSIONS = EVERYONE_PERMISSIONS | CREATE_PUBLIC_THREADS

NAMES = {BOT_ID: "supportbot", OWNER_ID: "owner", ALICE: "alice", BOB: "bob", CAROL: "carol", DAVE: "dave",
         OTHER_BOT: "otherbot"}
MEMBER_ROLES = {BOT_ID: [BOT_ROLE], OWNER_ID: [], ALICE: [], BOB: [], CAROL: [STAFF_ROLE], DAVE: [MODS_ROLE],
                OTHER_BOT: []}
ROLES = [
    {"id": GUILD_ID, "name": "@everyone", "permissions": str(EVERYONE_PERMISSIONS), "position": 0},
    {"id": STAFF_ROLE, "name": "Support Staff", "permissions": "0", "position": 1, "mentionable": True},
    {"id": MODS_ROLE, "name": "Moderators", "permissions": str(MANAGE_GUILD), "position": 2},
    {"id": BOT_ROLE, "name": "supportbot", "permissions": str(BOT_PERMISSIONS), "position": 3, "managed": True,
     "tags": {"bot_id": str(BOT_ID)}},
]

# Discord's documented limits, enforced as Discord does (400 Invalid Form Body).
LIMITS = {"content": 2000, "title": 256, "description": 4096, "fields": 25, "field_name": 256,
          "field_value": 1024, "footer": 2048, "embed_total": 6000, "embeds": 10, "rows": 5, "per_row": 5,
          "custom_id": 100, "label": 80, "choices": 25, "choice": 100}


def iso(moment: dt.datetime | None = None) -> str:
    return (moment or dt.datetime.now(dt.UTC)).isoformat()


def user(user_id: int) -> dict[str, Any]:
    return {"id": str(user_id), "username": NAMES.get(user_id, f"user{user_id}"), "discriminator": "0",
            "global_name": NAMES.get(user_id), "avatar": None, "bot": user_id in (BOT_ID, OTHER_BOT),
            "public_flags": 0}


def member(user_id: int, *, with_user: bool = True, permissions: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"roles": [str(r) for r in MEMBER_ROLES.get(user_id, [])], "joined_at": iso(_BASE),
                            "deaf": False, "mute": False, "flags": 0, "nick": None, "avatar": None,
                            "premium_since": None, "pending": False}
    if with_user:
        data["user"] = user(user_id)
    if permissions:
        data["permissions"] = str(member_permissions(user_id))
    return data


def member_permissions(user_id: int) -> int:
    total = EVERYONE_PERMISSIONS
    for role in ROLES:
        if int(role["id"]) in MEMBER_ROLES.get(user_id, []):
            total |= int(role["permissions"])
    return total


def text_channel(channel_id: int, name: str, position: int) -> dict[str, Any]:
    return {"id": str(channel_id), "type": 0, "guild_id": str(GUILD_ID), "name": name, "position": position,
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
            "last_message_id": None, "rate_limit_per_user": 0, "flags": 0}


def thread_channel(thread_id: int, parent_id: int, name: str, owner_id: int) -> dict[str, Any]:
    return {"id": str(thread_id), "type": 11, "guild_id": str(GUILD_ID), "parent_id": str(parent_id),
            "owner_id": str(owner_id), "name": name, "last_message_id": None, "rate_limit_per_user": 0,
            "flags": 0, "member_count": 2, "message_count": 1, "total_message_sent": 1,
            "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "archive_timestamp": iso(_BASE),
                                "locked": False}}


CHANNELS = {GENERAL: text_channel(GENERAL, "general", 0), RANDOM: text_channel(RANDOM, "random", 1),
            STAFF_CHANNEL: text_channel(STAFF_CHANNEL, "staff", 2)}


@dataclass
class Call:
    method: str
    path: str  # below the API base, e.g. "/channels/123/messages"
    json: Any = None
    query: dict[str, str] = field(default_factory=dict)
    authorization: str | None = None
    status: int = 0  # what the fake answered

    @property
    def body(self) -> dict[str, Any]:
        return self.json if isinstance(self.json, dict) else {}

    @property
    def files(self) -> list[dict[str, Any]]:
        """Files sent with the message (multipart): {"name", "filename", "content_type", "data"}."""
        return list(self.body.get("_files") or [])

    @property
    def embeds(self) -> list[dict[str, Any]]:
        body = self.body.get("data", self.body) if "type" in self.body and "data" in self.body else self.body
        return list(body.get("embeds") or [])

    @property
    def components(self) -> list[dict[str, Any]]:
        body = self.body.get("data", self.body) if "type" in self.body and "data" in self.body else self.body
        return list(body.get("components") or [])

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for row in self.components for c in row.get("components", []) if "custom_id" in c]

    @property
    def ephemeral(self) -> bool:
        body = self.body.get("data", self.body) if "type" in self.body and "data" in self.body else self.body
        return bool(int(body.get("flags") or 0) & 64)

    def text(self) -> str:
        """Everything a person would read in the message: content, embed titles, descriptions, fields, footer."""
        body = self.body.get("data", self.body) if "type" in self.body and "data" in self.body else self.body
        parts = [body.get("content") or ""]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields", [])]
            parts.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(p for p in parts if p)


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    code: int
    message: str
    times: int


class _Session:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.sequence = 0
        self.ready = False
        self.identify: dict[str, Any] | None = None
        self.beats = 0  # heartbeats received


class FakeDiscord:
    """Plays Discord for one bot: answers like Discord, records every REST call, drives the gateway."""

    def __init__(self, *, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.messages: dict[int, dict[str, Any]] = {}  # every message known: sent by people or by the bot
        self.history: dict[int, list[dict[str, Any]]] = {}  # channel -> messages, oldest first
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or guild id -> synced commands
        self.identifies: list[dict[str, Any]] = []
        self._failures: list[_Failure] = []
        self._changed = asyncio.Condition()
        self._ids = itertools.count(100)
        self._sessions: list[_Session] = []
        self._threads: list[dict[str, Any]] = []  # threads the bot opened
        self._answered: set[str] = set()  # interaction tokens already acknowledged
        self._original: dict[str, str] = {}  # interaction token -> id of its original response message
        self._interaction_channels: dict[str, int] = {}  # interaction token -> channel it happened in
        self._pending_events: list[tuple[str, dict[str, Any]]] = []  # gateway events a REST call caused
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifetime ----------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v{version}/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for session in list(self._sessions):
            await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def env(self) -> dict[str, str]:
        return {"DISCORD_TOKEN": self.token, "DISCORD_API_URL": self.api_url, "DISCORD_GATEWAY_URL": self.gateway_url}

    # -- test controls -----------------------------------------------------------------------------

    def fail(self, method: str, path: str, *, status: int = 400, code: int = 50035,
             message: str = "Invalid Form Body", times: int = 1) -> None:
        """Make the next `times` REST calls matching METHOD and the `path` regex fail like Discord does."""
        self._failures.append(_Failure(method, re.compile(path), status, code, message, times))

    def called(self, method: str, path: str = "") -> list[Call]:
        pattern = re.compile(path)
        return [c for c in self.calls if c.method == method and pattern.search(c.path)]

    async def wait_for(self, method: str, path: str = "", count: int = 1, timeout: float = 10.0,
                       where: Callable[[Call], bool] | None = None) -> list[Call]:
        """Wait until at least `count` calls match METHOD, the `path` regex and `where`; return them all."""

        def matching() -> list[Call]:
            return [c for c in self.called(method, path) if where is None or where(c)]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(matching()) >= count), timeout)
        return matching()

    async def wait_identified(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until `count` gateway sessions have identified and received READY and GUILD_CREATE."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.identifies) >= count), timeout)

    def sent_messages(self) -> list[Call]:
        """Everything the bot posted or edited as a message (channel messages and interaction follow-ups)."""
        return [c for c in self.calls if (c.method, _kind(c.path)) in _MESSAGE_ROUTES]

    # -- gateway events ----------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH event to every ready session, as a plain JSON text frame."""
        for session in [s for s in self._sessions if s.ready]:
            await self._send(session, {"op": 0, "t": event, "d": data})

    async def sync(self, timeout: float = 10.0) -> None:
        """Return once every ready session has read every frame sent so far.

        Discord may ask for a heartbeat at any time (op 1) and the client answers at once, in order;
        so the answer proves that all earlier events were read and their handlers scheduled.
        """
        sessions = [s for s in self._sessions if s.ready]
        before = {id(s): s.beats for s in sessions}
        for session in sessions:
            await self._send(session, {"op": 1, "d": session.sequence, "s": None, "t": None})
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(
                lambda: all(s.beats > before[id(s)] or s.ws.closed for s in sessions)), timeout)

    def message_payload(self, content: str, *, author: int = ALICE, channel_id: int = GENERAL,
                        guild: bool = True, **extra: Any) -> dict[str, Any]:
        message_id = self._next_id()
        mentioned = [int(m) for m in re.findall(r"<@!?(\d+)>", content)]
        data: dict[str, Any] = {
            "id": str(message_id), "channel_id": str(channel_id), "author": user(author), "content": content,
            "timestamp": iso(), "edited_timestamp": None, "tts": False,
            "mention_everyone": "@everyone" in content, "mentions": [
                {**user(m), "member": member(m, with_user=False)} for m in mentioned],
            "mention_roles": re.findall(r"<@&(\d+)>", content), "attachments": [], "embeds": [],
            "pinned": False, "type": 0, "flags": 0, "components": [],
        }
        if guild:
            data["guild_id"] = str(GUILD_ID)
            data["member"] = member(author, with_user=False)
        data.update(extra)
        return data

    async def send_message(self, content: str, *, author: int = ALICE, channel_id: int = GENERAL,
                           **extra: Any) -> dict[str, Any]:
        """A person (or a bot) posts in a channel: MESSAGE_CREATE."""
        data = self.message_payload(content, author=author, channel_id=channel_id, **extra)
        self._remember(data)
        await self.dispatch("MESSAGE_CREATE", data)
        return data

    async def edit_message(self, message: dict[str, Any], content: str) -> dict[str, Any]:
        """A person edits their message: MESSAGE_UPDATE."""
        data = {**message, "content": content, "edited_timestamp": iso()}
        self._remember(data)
        await self.dispatch("MESSAGE_UPDATE", data)
        return data

    def interaction_payload(self, kind: int, data: dict[str, Any] | None, *, user_id: int = ALICE,
                            channel_id: int = GENERAL, message: dict[str, Any] | None = None) -> dict[str, Any]:
        interaction_id = self._next_id()
        channel = CHANNELS.get(channel_id) or self._thread_payload(channel_id)
        payload: dict[str, Any] = {
            "id": str(interaction_id), "application_id": str(APP_ID), "type": kind,
            "token": f"itoken{interaction_id}", "version": 1, "guild_id": str(GUILD_ID),
            "channel_id": str(channel_id), "channel": channel,
            "member": member(user_id, permissions=True), "app_permissions": str(BOT_PERMISSIONS),
            "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)}, "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
        }
        if data is not None:
            payload["data"] = data
        if message is not None:
            payload["message"] = message
        self._interaction_channels[payload["token"]] = channel_id
        return payload

    async def interact(self, payload: dict[str, Any]) -> dict[str, Any]:
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    def _command(self, name: str, kind: int) -> dict[str, Any]:
        for commands in self.commands.values():
            for command in commands:
                if command["name"] == name and command.get("type", 1) == kind:
                    return command
        raise LookupError(f"command {name!r} was never synced")

    async def slash(self, name: str, *, user_id: int = ALICE, channel_id: int = GENERAL,
                    **options: str) -> dict[str, Any]:
        """A person runs /NAME with string options (the command must have been synced)."""
        command = self._command(name, 1)
        data = {"id": command["id"], "name": name, "type": 1, "guild_id": str(GUILD_ID),
                "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()]}
        return await self.interact(self.interaction_payload(2, data, user_id=user_id, channel_id=channel_id))

    async def autocomplete(self, name: str, option: str, current: str, *, user_id: int = ALICE) -> dict[str, Any]:
        command = self._command(name, 1)
        data = {"id": command["id"], "name": name, "type": 1, "guild_id": str(GUILD_ID),
                "options": [{"name": option, "type": 3, "value": current, "focused": True}]}
        return await self.interact(self.interaction_payload(4, data, user_id=user_id))

    async def message_command(self, name: str, target: dict[str, Any], *, user_id: int = ALICE) -> dict[str, Any]:
        command = self._command(name, 3)
        data = {"id": command["id"], "name": name, "type": 3, "guild_id": str(GUILD_ID),
                "target_id": target["id"], "resolved": {"messages": {target["id"]: target}}}
        return await self.interact(self.interaction_payload(2, data, user_id=user_id,
                                                            channel_id=int(target["channel_id"])))

    async def click(self, message: dict[str, Any], custom_id: str, *, user_id: int = ALICE) -> dict[str, Any]:
        """A person clicks the button `custom_id` on `message` (a message payload the bot sent)."""
        data = {"custom_id": custom_id, "component_type": 2}
        return await self.interact(self.interaction_payload(3, data, user_id=user_id,
                                                            channel_id=int(message["channel_id"]), message=message))

    def bot_message(self, call: Call) -> dict[str, Any]:
        """The message the bot created with `call` (as Discord stored it)."""
        message_id = call.query.get("_created")
        assert message_id, f"{call.method} {call.path} created no message"
        return self.messages[int(message_id)]

    def add_history(self, channel_id: int, content: str, author: int) -> dict[str, Any]:
        """A message already in a channel or thread before the test (read through GET .../messages)."""
        data = self.message_payload(content, author=author, channel_id=channel_id)
        self._remember(data)
        return data

    # -- gateway -----------------------------------------------------------------------------------

    async def _send(self, session: _Session, payload: dict[str, Any]) -> None:
        if payload.get("op") == 0:
            session.sequence += 1
            payload["s"] = session.sequence
        if not session.ws.closed:
            await session.ws.send_str(json.dumps(payload))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        session = _Session(ws)
        self._sessions.append(session)
        await self._send(session, {"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                op = message.get("op")
                if op == 1:
                    await self._send(session, {"op": 11, "d": None, "s": None, "t": None})
                    async with self._changed:
                        session.beats += 1
                        self._changed.notify_all()
                elif op == 2:
                    await self._identify(session, message["d"])
                elif op == 6:
                    session.ready = True
                    await self._send(session, {"op": 0, "t": "RESUMED", "d": {}})
        finally:
            self._sessions.remove(session)
        return ws

    async def _identify(self, session: _Session, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            await session.ws.close(code=4004, message=b"Authentication failed.")
            return
        session.identify = data
        await self._send(session, {"op": 0, "t": "READY", "d": {
            "v": API_VERSION, "user": user(BOT_ID), "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "session_id": f"session{len(self.identifies) + 1}", "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": 0}, "private_channels": [], "relationships": [],
        }})
        await self._send(session, {"op": 0, "t": "GUILD_CREATE", "d": self.guild_payload()})
        session.ready = True
        async with self._changed:
            self.identifies.append({k: v for k, v in data.items() if k != "token"})
            self._changed.notify_all()

    def guild_payload(self) -> dict[str, Any]:
        return {
            "id": str(GUILD_ID), "name": "Fake Guild", "icon": None, "splash": None, "discovery_splash": None,
            "owner_id": str(OWNER_ID), "afk_channel_id": None, "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0,
            "features": [], "emojis": [], "stickers": [], "application_id": None, "system_channel_id": None,
            "system_channel_flags": 0, "rules_channel_id": None, "vanity_url_code": None, "description": None,
            "banner": None, "premium_tier": 0, "preferred_locale": "en-US", "public_updates_channel_id": None,
            "nsfw_level": 0, "premium_progress_bar_enabled": False, "joined_at": iso(_BASE), "large": False,
            "unavailable": False, "member_count": len(NAMES), "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "roles": [{"color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0, **role,
                       "id": str(role["id"])} for role in ROLES],
            "channels": list(CHANNELS.values()),
            "threads": [thread_channel(HELP_THREAD, GENERAL, "help with my setup", ALICE),
                        thread_channel(QUIET_THREAD, GENERAL, "my build", ALICE)],
            "members": [member(uid) for uid in NAMES],
        }

    def _thread_payload(self, channel_id: int) -> dict[str, Any]:
        return thread_channel(channel_id, GENERAL, "thread", ALICE)

    # -- REST --------------------------------------------------------------------------------------

    def _next_id(self) -> int:
        return _snowflake(dt.datetime.now(dt.UTC), next(self._ids))

    def _remember(self, message: dict[str, Any]) -> None:
        message_id = int(message["id"])
        channel = self.history.setdefault(int(message["channel_id"]), [])
        if message_id not in self.messages:
            channel.append(message)
        else:
            channel[:] = [message if int(m["id"]) == message_id else m for m in channel]
        self.messages[message_id] = message

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _failure_for(self, method: str, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.times > 0 and failure.method == method and failure.pattern.search(path):
                failure.times -= 1
                return failure
        return None

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                body = json.loads(raw)
            elif request.content_type.startswith("multipart/"):
                body = _multipart(request.headers["Content-Type"], raw)
        call = Call(request.method, path, body, dict(request.query), request.headers.get("Authorization"))
        response = self._answer(call)
        call.status = response.status
        # Events a call causes (THREAD_CREATE) reach the gateway before the REST answer, as on Discord.
        events, self._pending_events = self._pending_events, []
        for event, data in events:
            await self.dispatch(event, data)
        await self._record(call)
        return response

    def _answer(self, call: Call) -> web.Response:
        failure = self._failure_for(call.method, call.path)
        if failure is not None:
            return _error(failure.status, failure.code, failure.message)
        kind = _kind(call.path)
        needs_auth = not call.path.startswith(("/interactions/", "/webhooks/"))
        if needs_auth and call.authorization != f"Bot {self.token}":
            return _error(401, 0, "401: Unauthorized")
        handler = _ROUTES.get((call.method, kind))
        if handler is None:
            return _error(404, 0, f"404: Not Found ({call.method} {call.path})")
        return handler(self, call)

    # Individual routes. `call.query["_created"]` remembers the id of a message a call created.

    def _me(self, call: Call) -> web.Response:
        return _json(user(BOT_ID))

    def _application(self, call: Call) -> web.Response:
        return _json({
            "id": str(APP_ID), "name": "supportbot", "icon": None, "description": "", "rpc_origins": [],
            "bot_public": False, "bot_require_code_grant": False, "owner": user(OWNER_ID), "summary": "",
            "verify_key": "0" * 64, "team": None, "flags": 0, "bot": user(BOT_ID),
            "interactions_endpoint_url": None, "approximate_guild_count": 1,
        })

    def _gateway_url(self, call: Call) -> web.Response:
        if call.path.endswith("/bot"):
            return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": {
                "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
        return _json({"url": self.gateway_url})

    def _sync_commands(self, call: Call) -> web.Response:
        parts = call.path.strip("/").split("/")
        scope = parts[3] if len(parts) > 4 and parts[2] == "guilds" else "global"
        commands = []
        for item in call.json or []:
            problems = _command_problems(item)
            if problems:
                return _error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
            commands.append({"id": str(self._next_id()), "application_id": str(APP_ID), "version": "1",
                             "default_member_permissions": None, "dm_permission": True, "nsfw": False,
                             "options": [], "type": 1, "description": "", **item,
                             **({"guild_id": scope} if scope != "global" else {})})
        self.commands[scope] = commands
        return _json(commands)

    def _create_message(self, call: Call, channel_id: int, *, flags: int = 0,
                        webhook: bool = False) -> web.Response:
        body = call.body
        problems = message_problems(body)
        if problems:
            return _error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
        message_id = self._next_id()
        message = {
            "id": str(message_id), "channel_id": str(channel_id), "guild_id": str(GUILD_ID),
            "author": user(BOT_ID), "content": body.get("content") or "", "timestamp": iso(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": _attachments(body, message_id),
            "embeds": body.get("embeds") or [], "pinned": False,
            "type": 19 if body.get("message_reference") else 0, "flags": flags | int(body.get("flags") or 0),
            "components": _components(body.get("components") or []), "application_id": str(APP_ID),
        }
        if webhook:
            message["webhook_id"] = str(APP_ID)
        if body.get("message_reference"):
            message["message_reference"] = body["message_reference"]
        self._remember(message)
        call.query["_created"] = str(message_id)
        return _json(message)

    def _post_message(self, call: Call) -> web.Response:
        channel_id = int(call.path.split("/")[2])
        return self._create_message(call, channel_id)

    def _edit_message(self, call: Call) -> web.Response:
        parts = call.path.strip("/").split("/")
        message_id = parts[-1]
        if message_id == "@original":
            original = self._original.get(parts[2])
            if original is None:
                return _error(404, 10008, "Unknown Message")
            message_id = original
        existing = self.messages.get(int(message_id))
        if existing is None:
            return _error(404, 10008, "Unknown Message")
        problems = message_problems(call.body)
        if problems:
            return _error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
        updated = {**existing, "edited_timestamp": iso()}
        for key in ("content", "embeds"):
            if key in call.body:
                updated[key] = call.body[key] or ([] if key == "embeds" else "")
        if "components" in call.body:
            updated["components"] = _components(call.body["components"] or [])
        self._remember(updated)
        call.query["_created"] = str(updated["id"])
        return _json(updated)

    def _history(self, call: Call) -> web.Response:
        channel_id = int(call.path.split("/")[2])
        messages = list(self.history.get(channel_id, []))
        before = call.query.get("before")
        if before:
            messages = [m for m in messages if int(m["id"]) < int(before)]
        limit = int(call.query.get("limit", 50))
        return _json(list(reversed(messages))[:limit])  # newest first, as Discord answers

    def _react(self, call: Call) -> web.Response:
        return web.Response(status=204)

    def _start_thread(self, call: Call) -> web.Response:
        parts = call.path.strip("/").split("/")
        channel_id, message_id = int(parts[1]), int(parts[3])
        if any(int(t["id"]) == message_id for t in self._threads):
            return _error(400, 160004, "A thread has already been created for this message")
        name = (call.body.get("name") or "")
        if not 1 <= len(name) <= 100:
            return _error(400, 50035, "Invalid Form Body: name must be 1-100 characters")
        thread = thread_channel(message_id, channel_id, name, BOT_ID)
        self._threads.append(thread)
        self._pending_events.append(("THREAD_CREATE", {**thread, "newly_created": True}))
        return _json(thread)

    def _interaction_callback(self, call: Call) -> web.Response:
        parts = call.path.strip("/").split("/")
        interaction_id, token = parts[1], parts[2]
        body = call.body
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        if kind == 8:
            problems = choice_problems(data.get("choices") or [])
            if problems:
                return _error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
        if kind in (4, 7):
            problems = message_problems(data)
            if problems:
                return _error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
        if token in self._answered:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        self._answered.add(token)
        flags = int(data.get("flags") or 0)
        interaction = {"id": interaction_id, "type": 2, "response_message_loading": kind == 5,
                       "response_message_ephemeral": bool(flags & 64)}
        result: dict[str, Any] = {"interaction": interaction}
        if kind in (4, 5):
            message_call = Call("POST", call.path, {**data, "_files": body.get("_files") or []})
            refused = self._create_message(message_call, self._interaction_channels.get(token, 0), webhook=True)
            if refused.status != 200:
                return refused
            message_id = message_call.query["_created"]
            self._original[token] = message_id
            interaction["response_message_id"] = message_id
            if kind == 4:
                result["resource"] = {"type": kind, "message": self.messages[int(message_id)]}
        return _json(result)

    def _followup(self, call: Call) -> web.Response:
        token = call.path.strip("/").split("/")[2]
        if token not in self._answered:
            return _error(404, 10015, "Unknown Webhook")
        return self._create_message(call, self._interaction_channels.get(token, 0), webhook=True)


# -- routing and validation ------------------------------------------------------------------------

_KINDS = [
    ("users/@me", re.compile(r"^/users/@me$")),
    ("application", re.compile(r"^/(oauth2/)?applications/@me$")),
    ("gateway", re.compile(r"^/gateway(/bot)?$")),
    ("commands", re.compile(r"^/applications/\d+(/guilds/\d+)?/commands$")),
    ("messages", re.compile(r"^/channels/\d+/messages$")),
    ("message", re.compile(r"^/channels/\d+/messages/\d+$")),
    ("reaction", re.compile(r"^/channels/\d+/messages/\d+/reactions/[^/]+/@me$")),
    ("thread", re.compile(r"^/channels/\d+/messages/\d+/threads$")),
    ("callback", re.compile(r"^/interactions/\d+/[^/]+/callback$")),
    ("followup", re.compile(r"^/webhooks/\d+/[^/]+$")),
    ("webhook_message", re.compile(r"^/webhooks/\d+/[^/]+/messages/(@original|\d+)$")),
]


def _kind(path: str) -> str:
    for name, pattern in _KINDS:
        if pattern.match(path):
            return name
    return "?"


_ROUTES: dict[tuple[str, str], Callable[[FakeDiscord, Call], web.Response]] = {
    ("GET", "users/@me"): FakeDiscord._me,
    ("GET", "application"): FakeDiscord._application,
    ("GET", "gateway"): FakeDiscord._gateway_url,
    ("PUT", "commands"): FakeDiscord._sync_commands,
    ("POST", "messages"): FakeDiscord._post_message,
    ("GET", "messages"): FakeDiscord._history,
    ("PATCH", "message"): FakeDiscord._edit_message,
    ("PUT", "reaction"): FakeDiscord._react,
    ("DELETE", "reaction"): FakeDiscord._react,
    ("POST", "thread"): FakeDiscord._start_thread,
    ("POST", "callback"): FakeDiscord._interaction_callback,
    ("POST", "followup"): FakeDiscord._followup,
    ("PATCH", "webhook_message"): FakeDiscord._edit_message,
}
_MESSAGE_ROUTES = {("POST", "messages"), ("PATCH", "message"), ("POST", "followup"), ("PATCH", "webhook_message"),
                   ("POST", "callback")}


def _attachments(body: dict[str, Any], message_id: int) -> list[dict[str, Any]]:
    return [{"id": str(message_id + index + 1), "filename": f["filename"], "size": len(f["data"]),
             "content_type": f["content_type"],
             "url": f"https://cdn.example.invalid/attachments/{message_id}/{f['filename']}",
             "proxy_url": f"https://media.example.invalid/attachments/{message_id}/{f['filename']}"}
            for index, f in enumerate(body.get("_files") or [])]


def _multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """A message sent with files, as discord.py sends it: `payload_json` plus `files[n]` parts.

    The body is the JSON payload with `_files`: [{"name", "filename", "content_type", "data"}] added.
    """
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    body: dict[str, Any] = {"_multipart": True, "_files": []}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if name == "payload_json":
            body.update(json.loads(data))
        else:
            body["_files"].append({"name": name, "filename": part.get_filename(),
                                   "content_type": part.get_content_type(), "data": data})
    return body


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py decodes a body only when Content-Type is exactly "application/json", as Discord sends it.
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"code": code, "message": message}, status=status)


def _components(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Components as Discord echoes them back (ids and defaults filled in)."""
    out = []
    for row in rows:
        children = [{"type": 2, "style": 2, "disabled": False, **c, "id": index + 2}
                    for index, c in enumerate(row.get("components", []))]
        out.append({"type": 1, "id": 1, "components": children})
    return out


def message_problems(body: dict[str, Any]) -> list[str]:
    """What Discord would refuse in a message body (content, embeds, components), per the documented limits."""
    problems = []
    content = body.get("content") or ""
    if len(content) > LIMITS["content"]:
        problems.append(f"content: {len(content)} > {LIMITS['content']}")
    embeds = body.get("embeds") or []
    if len(embeds) > LIMITS["embeds"]:
        problems.append("too many embeds")
    for embed in embeds:
        title, description = embed.get("title") or "", embed.get("description") or ""
        fields = embed.get("fields") or []
        footer = (embed.get("footer") or {}).get("text") or ""
        if len(title) > LIMITS["title"]:
            problems.append(f"embed title {len(title)}")
        if len(description) > LIMITS["description"]:
            problems.append(f"embed description {len(description)}")
        if len(fields) > LIMITS["fields"]:
            problems.append(f"{len(fields)} embed fields")
        if len(footer) > LIMITS["footer"]:
            problems.append(f"embed footer {len(footer)}")
        for f in fields:
            if not f.get("name") or not f.get("value"):
                problems.append("empty embed field name or value")
            if len(f.get("name") or "") > LIMITS["field_name"] or len(f.get("value") or "") > LIMITS["field_value"]:
                problems.append(f"embed field {f.get('name', '')[:20]!r} too long")
        total = len(title) + len(description) + len(footer) + sum(len(f["name"]) + len(f["value"]) for f in fields)
        if total > LIMITS["embed_total"]:
            problems.append(f"embed total {total} > {LIMITS['embed_total']}")
    rows = body.get("components") or []
    if len(rows) > LIMITS["rows"]:
        problems.append(f"{len(rows)} component rows")
    seen: set[str] = set()
    for row in rows:
        children = row.get("components") or []
        if len(children) > LIMITS["per_row"]:
            problems.append(f"{len(children)} components in a row")
        for child in children:
            custom = child.get("custom_id") or ""
            if len(custom) > LIMITS["custom_id"] or len(child.get("label") or "") > LIMITS["label"]:
                problems.append("component custom_id or label too long")
            if custom in seen:
                problems.append(f"duplicate custom_id {custom!r}")
            seen.add(custom)
    if not content and not embeds and not rows and not body.get("flags"):
        problems.append("cannot send an empty message")
    return problems


def choice_problems(choices: list[dict[str, Any]]) -> list[str]:
    problems = []
    if len(choices) > LIMITS["choices"]:
        problems.append(f"{len(choices)} choices > {LIMITS['choices']}")
    for choice in choices:
        if not 1 <= len(choice.get("name") or "") <= LIMITS["choice"]:
            problems.append(f"choice name length {len(choice.get('name') or '')}")
        if len(str(choice.get("value"))) > LIMITS["choice"]:
            problems.append("choice value too long")
    return problems


_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


def _command_problems(command: dict[str, Any]) -> list[str]:
    problems = []
    kind = command.get("type", 1)
    name = command.get("name") or ""
    if kind == 1 and (not _COMMAND_NAME.match(name) or name != name.lower()):
        problems.append(f"bad command name {name!r}")
    if kind != 1 and not 1 <= len(name) <= 32:
        problems.append(f"bad menu name {name!r}")
    if kind == 1 and not 1 <= len(command.get("description") or "") <= 100:
        problems.append(f"description of /{name} must be 1-100 characters")
    for option in command.get("options") or []:
        if not 1 <= len(option.get("description") or "") <= 100:
            problems.append(f"description of option {option.get('name')!r} must be 1-100 characters")
    return problems
