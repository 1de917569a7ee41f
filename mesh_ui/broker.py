"""kombu's file-system transport with messages that appear whole: the embedded default broker.

kombu's own transport creates a message's file under its final name and then writes it, so a worker polling the
queue folder can take the file while it is still empty and fail to decode it (celery/kombu#1551); with a short
polling interval and a snapshot's windows queued together this happens within minutes. Here a message is written
under a name no queue matches and renamed into place, which is atomic on one file system.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    """A file-system channel whose ``_put`` (the virtual transport's hook for sending) renames a complete file."""

    # kombu's own classes name the second parameter differently (message, payload): either override mismatches one.
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # The same name as kombu's (its order is the queue's order), written whole first.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.partial"  # ".partial" keeps _get from taking it as a message of the queue
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    """``filesystem://`` with :class:`Channel`."""

    Channel = Channel
