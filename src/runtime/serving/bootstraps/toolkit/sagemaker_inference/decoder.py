"""The toolkit's decoder: a request body of a known content type to a numpy array."""
import io
import json

import numpy as np

from sagemaker_inference import content_types, errors


def decode(obj, content_type):
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == content_types.JSON:
        return np.array(json.loads(obj))
    if kind == content_types.CSV:
        return np.genfromtxt(io.StringIO(obj if isinstance(obj, str) else obj.decode("utf-8")), delimiter=",", dtype=np.float32)
    if kind == content_types.NPY:
        return np.load(io.BytesIO(obj), allow_pickle=False)
    if kind == content_types.NPZ:
        with np.load(io.BytesIO(obj), allow_pickle=False) as archive:
            return archive[archive.files[0]]
    raise errors.UnsupportedFormatError(content_type)
