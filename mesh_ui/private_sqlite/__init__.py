"""Django's SQLite backend with the database file private to its owner (see :mod:`mesh_ui.private_sqlite.base`)."""
