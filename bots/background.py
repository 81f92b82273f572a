"""What both bots need to keep their event loop free: work after the ack, database calls, whole jobs."""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor


class Background:
    """Tasks started after an answer, blocking database calls in threads, and a small pool for whole jobs."""

    def start_background(self, pool_name: str) -> None:
        self.jobs_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix=pool_name)
        self.tasks: set[asyncio.Task] = set()

    def spawn(self, coro) -> asyncio.Task:
        """Run work after the ack; keep a reference so it is not collected half-way."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def db(self, fn, *args, **kwargs):
        """A blocking database call, off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def in_jobs_pool(self, fn, *args, **kwargs):
        """Work that may run a whole job (no broker: submit and deliver run here and now)."""
        return await asyncio.get_running_loop().run_in_executor(self.jobs_pool, functools.partial(fn, *args,
                                                                                                   **kwargs))
