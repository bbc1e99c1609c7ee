"""Sending an outbox after commit, on the server's event loop (issues 16 and 20).

A ``Courier`` runs passes, one at a time per workspace: ``kick`` (from any thread; a commit
that queued something calls it) starts a pass, or makes another follow the running one, so a
row queued during a pass is never left behind; ``start`` kicks, at start-up, the workspaces a
restart left something for. The outbox's own ``pass_`` claims, sends (HTTP in a worker thread)
and records; a failing pass is logged and its rows stay queued. The connectors' deliveries and
the webhooks each have one (``portal.connectors.worker``, ``portal.webhooks.worker``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from portal.core.clock import Clock
from portal.core.db import session_scope

log = logging.getLogger(__name__)


class Courier:
    def __init__(
        self,
        engine: Engine,
        system: Clock,
        state: Any,
        *,
        pass_: Callable[[Courier, str], Awaitable[None]],
        due: Callable[[Session], list[str]],
        name: str,
    ) -> None:
        self.engine = engine
        self.system = system
        self.state = state
        self._pass = pass_
        self._due = due
        self.name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self.running: dict[str, asyncio.Task[None]] = {}
        self.again: set[str] = set()

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        with session_scope(self.engine) as session:
            due = self._due(session)
        self.kick(due)

    def kick(self, workspace_ids: Iterable[str]) -> None:
        if self.loop is None or self.loop.is_closed():
            return
        for workspace_id in sorted(workspace_ids):
            self.loop.call_soon_threadsafe(self._start, workspace_id)

    def _start(self, workspace_id: str) -> None:
        if workspace_id in self.running:
            self.again.add(workspace_id)
            return
        assert self.loop is not None
        self.running[workspace_id] = self.loop.create_task(self._run(workspace_id))

    async def _run(self, workspace_id: str) -> None:
        try:
            while True:
                self.again.discard(workspace_id)
                await self._pass(self, workspace_id)
                if workspace_id not in self.again:
                    return
        except Exception:  # a failing pass must not kill the courier; the rows stay queued
            log.exception("%s pass for %s failed", self.name, workspace_id)
        finally:
            self.running.pop(workspace_id, None)

    async def idle(self) -> None:
        """Wait until no pass runs (tests; shutdown)."""
        while self.running:
            await asyncio.gather(*list(self.running.values()), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self.running.values()):
            task.cancel()
        await asyncio.gather(*list(self.running.values()), return_exceptions=True)
