"""Content negotiation of the simulated API server: full objects, or metadata only.

A client that needs only names and labels (client-go's metadata informers, mesh-ui's Secret list) asks with
``Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`` for a list, and
``...;as=PartialObjectMetadata;...`` for a get or a watch. The real API server then answers with each object's
``metadata`` alone (never ``spec``, ``data`` nor ``type``), in the ``meta.k8s.io/v1`` kinds below; an ``as=``
it cannot produce, when nothing else in the header is acceptable, is a 406 ``NotAcceptable``.
"""

from __future__ import annotations

from simulator.errors import NotAcceptable
from simulator.resources import Obj

META_API_VERSION = "meta.k8s.io/v1"
PARTIAL_OBJECT = "PartialObjectMetadata"
PARTIAL_LIST = "PartialObjectMetadataList"
_PLAIN_TYPES = ("application/json", "application/*", "*/*")


def _media_ranges(accept: str) -> list[tuple[str, dict[str, str]]]:
    """Each ``type;param=value`` of an Accept header, in order, with its parameters."""
    ranges = []
    for part in accept.split(","):
        media_type, *params = (piece.strip() for piece in part.split(";"))
        if not media_type:
            continue
        parsed = {}
        for param in params:
            key, _, value = param.partition("=")
            parsed[key.strip()] = value.strip()
        ranges.append((media_type.lower(), parsed))
    return ranges


def read_form(accept: str | None, is_list: bool) -> str:
    """The form a read answers in, ``object``, ``metadata`` or ``table``: the first media range of the Accept
    header the server can produce.

    ``is_list``: a list answers ``as=PartialObjectMetadataList``; a get or a watch ``as=PartialObjectMetadata``.
    ``as=Table`` (``kubectl get``, ``kubectl get -w``) is produced for gets, lists and watches. No Accept header
    means plain JSON; a header naming only forms the server cannot produce is a 406.
    """
    if not accept:
        return "object"
    wanted = PARTIAL_LIST if is_list else PARTIAL_OBJECT
    for media_type, params in _media_ranges(accept):
        if media_type not in _PLAIN_TYPES:
            continue  # protobuf, YAML...: not served here
        form = params.get("as")
        if form is None:
            return "object"
        if params.get("g") != "meta.k8s.io":
            continue
        if form == wanted and params.get("v") == "v1":
            return "metadata"
        if form == "Table" and params.get("v") in ("v1", "v1beta1"):
            return "table"
    raise NotAcceptable(f"only the following media types are accepted: application/json, {wanted} of meta.k8s.io/v1")


def wants_metadata_only(accept: str | None, is_list: bool) -> bool:
    """Whether a read asks for metadata only (see :func:`read_form`; a Table is not metadata only)."""
    return read_form(accept, is_list) == "metadata"


def metadata_of(obj: Obj) -> Obj:
    """``obj`` as a ``PartialObjectMetadata``: its metadata and nothing else."""
    return {"kind": PARTIAL_OBJECT, "apiVersion": META_API_VERSION, "metadata": obj.get("metadata") or {}}
