"""Waiting on a stream's next message or a change, whichever comes first."""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

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


def abandon(future: asyncio.Future[Any]) -> None:
    """Cancels a waiter whose outcome no longer matters. If it ends with an exception
    anyway (the call failed before the cancellation landed), that exception is
    retrieved: the caller already handles the call's end through another path."""
    future.cancel()
    future.add_done_callback(_retrieve)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
