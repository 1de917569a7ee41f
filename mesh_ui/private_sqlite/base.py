"""Django's SQLite backend, with the database and its WAL and shared-memory files private to their owner (0600).

The embedded default's database holds password hashes and sessions. Python's sqlite3 creates a missing database
with the process umask (0644 under the usual 022), and SQLite gives the ``-wal``, ``-shm`` and ``-journal`` files
the mode of the database file. So this backend creates the database file 0600 before the first connection, and
takes group and other access away from an existing one and from side files it finds, saying so in the log.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base

logger = logging.getLogger(__name__)

PRIVATE_MODE = 0o600
SIDE_FILE_SUFFIXES = ("-wal", "-shm", "-journal")


def make_database_file_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 when missing; drop group and other bits from it and its side files.

    An empty file is a valid new SQLite database. A missing folder is left for SQLite to report.
    """
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_MODE))
    except FileExistsError:
        pass
    except FileNotFoundError:
        return
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SIDE_FILE_SUFFIXES)):
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:
                file.chmod(mode & 0o700)
                logger.warning("%s was readable by others (mode %o): made it private to its owner", file, mode)
        except FileNotFoundError:
            continue
        except PermissionError as exc:  # someone else's file: SQLite will say whether it can use it
            logger.warning("cannot make %s private: %s", file, exc)


class DatabaseWrapper(base.DatabaseWrapper):
    """SQLite whose database file is created (and kept) private to the user running mesh-ui."""

    def get_new_connection(self, conn_params: Any) -> Any:
        database = str(conn_params["database"])
        # Django always opens SQLite with uri=True; a plain path is a file, a "file:" URI is left as it is.
        if not self.is_in_memory_db() and not database.startswith("file:"):
            make_database_file_private(Path(database))
        return super().get_new_connection(conn_params)
