"""Waiting on a stream's next message or a change, whichever comes first."""

from __future__ import annotations

import asyncio
from typing import TypeVar

T = TypeVar("T")


async def next_or_wakeup(queue: asyncio.Queue[T], wakeup: asyncio.Event) -> tuple[bool, T | None]:
    """(True, the queue's next item), or (False, None) once `wakeup` is set. Neither
    waiter outlives the call, even when it is cancelled (the stream ended)."""
    get = asyncio.ensure_future(queue.get())
    woken = asyncio.ensure_future(wakeup.wait())
    try:
        await asyncio.wait({get, woken}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        woken.cancel()
        if not get.done():
            get.cancel()
    if get.done() and not get.cancelled():
        return True, get.result()
    return False, None
