"""The toolkit's encoder: a prediction (numpy, lists, numbers) to JSON, CSV or NPY."""
import io
import json

from sagemaker_inference import content_types, errors

SUPPORTED_CONTENT_TYPES = [content_types.JSON, content_types.CSV, content_types.NPY]


def _plain(value):
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else value


def encode(array_like, content_type):
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == content_types.JSON:
        return json.dumps(_plain(array_like))
    if kind == content_types.CSV:
        rows = _plain(array_like)
        rows = rows if isinstance(rows, list) else [rows]
        return "\n".join(",".join(str(v) for v in (row if isinstance(row, list) else [row])) for row in rows) + "\n"
    if kind == content_types.NPY:
        import numpy as np

        buffer = io.BytesIO()
        np.save(buffer, np.asarray(_plain(array_like)))
        return buffer.getvalue()
    raise errors.UnsupportedFormatError(content_type)
