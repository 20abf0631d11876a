"""The `web` channel: the studio page as one more platform behind the outbox dispatcher.

The page may drive any person of the roster, whatever their channel prefix (`console:alice`,
`telegram:42`): one `WebChannel` is registered under each prefix, and all of them hand what
the dispatcher delivers to the page.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.messages import Outbound
from bot.transports.outbox import Entry, Progress, Result


class WebChannel:
    """Delivers to the studio page (the `Channel` protocol of `bot.transports.outbox`)."""

    def __init__(self, name: str, show: Callable[[Outbound], None]) -> None:
        self.name = name
        self._show = show

    async def deliver(self, entry: Entry, progress: Progress) -> Result:
        self._show(entry.out)  # one piece: the page draws each channel's parts itself
        return Result.SENT
