"""Audit log: who signed in (or failed to), used or changed tokens and grants, and wrote to a cluster, and when.

``audit.events`` is the only way rows are written; the rest of mesh-ui calls its ``record_*`` functions (or, for
model changes, ``audit.receivers`` does on their behalf). Rows are read-only in the admin and deleted after
``MESH_UI_AUDIT_RETENTION_DAYS`` by a beat task.
"""
