"""Kennel's model server for an inference script, as SageMaker's framework containers run one.

    python3 inference_server.py MODEL_DIR CODE_DIR PROGRAM

It imports PROGRAM from CODE_DIR and serves it with the contract of the SageMaker
inference toolkit (sagemaker-inference-toolkit's transformer.py and the PyTorch
container's default handler): model_fn(model_dir) once at start, then for each
request input_fn(body, content_type), predict_fn(data, model) and
output_fn(prediction, accept), or transform_fn(model, body, content_type, accept)
in their place. Every function is optional and has the toolkit's default; any of
them may take a trailing context argument, which is None here.

It speaks Kennel's frame protocol (see frames.ts) on file descriptors 3 (requests)
and 4 (replies); stdout and stderr are the endpoint's log. A reader thread answers
pings at once, so a long predict_fn does not fail health checks; requests run one
at a time on the main thread, as a model server worker runs them.
"""
import importlib
import inspect
import io
import json
import os
import queue
import struct
import sys
import threading
import traceback

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
NPZ = "application/x-npz"
UTF8_TYPES = (JSON, CSV)

requests_in = os.fdopen(3, "rb")
replies_out = os.fdopen(4, "wb")
reply_lock = threading.Lock()


def send(header, body=b""):
    data = json.dumps(header).encode("utf-8")
    with reply_lock:
        replies_out.write(struct.pack(">I", len(data)) + data + struct.pack(">I", len(body)))
        replies_out.write(body)
        replies_out.flush()


def read_exact(count):
    chunks, left = [], count
    while left > 0:
        chunk = requests_in.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame():
    length = read_exact(4)
    if length is None:
        return None
    header = json.loads(read_exact(struct.unpack(">I", length)[0]))
    body = read_exact(struct.unpack(">I", read_exact(4))[0])
    return header, body


class InferenceError(Exception):
    """An error with the HTTP status the container answers with, as the toolkit's errors carry one."""

    def __init__(self, status_code, message):
        super().__init__(message)
        self.status_code = status_code


def optional_module(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


np = optional_module("numpy")
torch = None  # imported on first use: it takes seconds, and scripts without it should not pay that


def load_torch():
    global torch
    if torch is None:
        torch = optional_module("torch") or False
    return torch or None


def media_type(value):
    return (value or "").split(";")[0].strip().lower()


def parse_accept(accept):
    return [media_type(part) for part in accept.split(",") if part.strip()]


# --- The toolkit's defaults ---------------------------------------------------

def default_model_fn(model_dir):
    """The PyTorch container's default: a TorchScript model.pt (or the one .pt/.pth file) in model_dir."""
    if load_torch() is None:
        raise NotImplementedError(
            "the inference script has no model_fn, and the default one loads a TorchScript model with torch, "
            "which this Python does not have: define model_fn(model_dir) in the script"
        )
    path = os.path.join(model_dir, "model.pt")
    if not os.path.exists(path):
        found = [name for name in os.listdir(model_dir) if os.path.splitext(name)[1] in (".pt", ".pth")]
        if len(found) != 1:
            raise ValueError("Exactly one .pth or .pt file is required for PyTorch models: {}".format(found))
        path = os.path.join(model_dir, found[0])
    try:
        return torch.jit.load(path, map_location=torch.device("cpu"))
    except RuntimeError as error:
        raise ValueError("Failed to load {}. Please ensure model is saved using torchscript.".format(path)) from error


def default_input_fn(input_data, content_type):
    """The toolkit's decoder: JSON, CSV, NPY and NPZ to a numpy array (a tensor where torch is loaded)."""
    kind = media_type(content_type)
    if kind == JSON:
        data = json.loads(input_data)
        array = np.array(data) if np is not None else data
    elif np is None:
        raise InferenceError(415, "Content type {} needs numpy to decode, which this Python does not have; define input_fn".format(content_type))
    elif kind == CSV:
        array = np.genfromtxt(io.StringIO(input_data), delimiter=",", dtype=np.float32)
    elif kind == NPY:
        array = np.load(io.BytesIO(input_data), allow_pickle=False)
    elif kind == NPZ:
        with np.load(io.BytesIO(input_data), allow_pickle=False) as archive:
            array = archive[archive.files[0]]
    else:
        raise InferenceError(415, "Content type {} is not supported by the default input_fn: send {}, {}, {} or {}, or define input_fn".format(content_type, JSON, CSV, NPY, NPZ))
    if torch and np is not None and isinstance(array, np.ndarray):
        return torch.FloatTensor(array) if kind in UTF8_TYPES else torch.from_numpy(array)
    return array


def default_predict_fn(data, model):
    """The PyTorch container's default: the model called on the data, in eval mode without gradients; any callable otherwise."""
    if torch and isinstance(model, torch.nn.Module):
        with torch.no_grad():
            model.eval()
            return model(data)
    if callable(model):
        return model(data)
    predict = getattr(model, "predict", None)
    if callable(predict):
        return predict(data)
    raise TypeError("the default predict_fn calls the model, and {} is neither callable nor has predict(); define predict_fn".format(type(model).__name__))


def to_plain(value):
    if torch and isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().tolist()
    if np is not None and isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    return value


def default_output_fn(prediction, accept):
    """The toolkit's encoder: the prediction as JSON, CSV or NPY, whichever Accept asks for first."""
    for kind in parse_accept(accept):
        if kind in (JSON, "*/*", "application/*"):
            return json.dumps(to_plain(prediction)), JSON
        if kind == CSV:
            rows = to_plain(prediction)
            rows = rows if isinstance(rows, list) else [rows]
            lines = [",".join(str(v) for v in (row if isinstance(row, list) else [row])) for row in rows]
            return "\n".join(lines) + "\n", CSV
        if kind == NPY and np is not None:
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(to_plain(prediction)))
            return buffer.getvalue(), NPY
    raise InferenceError(406, "Accept {} cannot be served by the default output_fn: ask for {}, {} or {}, or define output_fn".format(accept, JSON, CSV, NPY))


# --- Serving ------------------------------------------------------------------

def call(function, *args):
    """Calls a handler with or without the trailing context argument, as the toolkit does."""
    try:
        count = len(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        count = len(args)
    if count == len(args) + 1:
        return function(*args, None)
    return function(*args)


def load_handlers(code_dir, program):
    sys.path.insert(0, code_dir)
    module_name = program[:-3].replace("/", ".") if program.endswith(".py") else program
    module = importlib.import_module(module_name)
    handlers = {
        name: getattr(module, name, None)
        for name in ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn")
    }
    if handlers["transform_fn"] and (handlers["input_fn"] or handlers["predict_fn"] or handlers["output_fn"]):
        raise ValueError("Cannot use transform_fn implementation in conjunction with input_fn, predict_fn, and/or output_fn implementation")
    return handlers


def main():
    model_dir, code_dir, program = sys.argv[1:4]
    default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or JSON
    try:
        if os.path.exists(os.path.join(code_dir, "requirements.txt")):
            print("code/requirements.txt is not installed: Kennel runs offline, so install what it lists for this Python", file=sys.stderr)
        handlers = load_handlers(code_dir, program)
        model = call(handlers["model_fn"] or default_model_fn, model_dir)
    except BaseException as error:  # noqa: B036 - SystemExit in the script's import is a load failure too
        traceback.print_exc()
        send({"kind": "load-failed", "message": "{}: {}".format(type(error).__name__, error)})
        sys.exit(1)

    input_fn = handlers["input_fn"] or default_input_fn
    predict_fn = handlers["predict_fn"] or default_predict_fn
    output_fn = handlers["output_fn"] or default_output_fn

    def transform(body, content_type, accept):
        if handlers["transform_fn"]:
            return call(handlers["transform_fn"], model, body, content_type, accept)
        data = call(input_fn, body, content_type)
        prediction = call(predict_fn, data, model)
        return call(output_fn, prediction, accept)

    work = queue.Queue()

    def read_requests():
        while True:
            frame = read_frame()
            if frame is None or frame[0].get("kind") == "close":
                work.put(None)
                return
            header, body = frame
            if header.get("kind") == "ping":
                send({"kind": "pong", "id": header["id"]})
            else:
                work.put((header, body))

    threading.Thread(target=read_requests, daemon=True).start()
    send({"kind": "ready"})
    while True:
        item = work.get()
        if item is None:
            return
        header, body = item
        content_type = header.get("contentType") or ""
        accept = header.get("accept") or ""
        if not accept or accept == "*/*":
            accept = default_accept
        try:
            data = body.decode("utf-8") if media_type(content_type) in UTF8_TYPES else body
            result = transform(data, content_type, accept)
            response_type = accept
            if isinstance(result, tuple):
                result, response_type = result[0], result[1]
            if isinstance(result, str):
                result = result.encode("utf-8")
            elif not isinstance(result, (bytes, bytearray, memoryview)):
                result = json.dumps(to_plain(result)).encode("utf-8")
            send({"kind": "result", "id": header["id"], "contentType": response_type}, bytes(result))
        except Exception as error:  # noqa: BLE001 - every handler error is the request's answer
            traceback.print_exc()
            status = getattr(error, "status_code", 500)
            status = status if isinstance(status, int) and 400 <= status <= 599 else 500
            send({"kind": "error", "id": header["id"], "status": status, "message": str(error) or type(error).__name__})


if __name__ == "__main__":
    main()
