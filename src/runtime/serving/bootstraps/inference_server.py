"""Kennel's model server for an inference script, as SageMaker's framework containers run one.

    python3 inference_server.py MODEL_DIR CODE_DIR PROGRAM

It imports PROGRAM from CODE_DIR and serves it with the contract of the SageMaker
inference toolkit (sagemaker-inference-toolkit's transformer.py and the PyTorch
container's default handler): model_fn(model_dir) once at start, then for each
request input_fn(body, content_type), predict_fn(data, model) and
output_fn(prediction, accept), or transform_fn(model, body, content_type, accept)
in their place, with pre_model_fn and model_warmup_fn around model_fn. Every
function is optional and has the toolkit's default; any of them may take a
trailing context argument (model_dir and the request's headers, as the toolkit's
context gives them). The toolkit's own modules (sagemaker_inference.errors,
content_types, encoder, decoder) are importable when the real package is not.

It speaks Kennel's frame protocol (see frames.ts) on file descriptors 3 (requests)
and 4 (replies); stdout and stderr are the endpoint's log. A reader thread answers
pings at once, so a long predict_fn does not fail health checks; requests run one
at a time on the main thread, as a model server worker runs them.
"""
import ctypes
import importlib
import inspect
import json
import os
import queue
import struct
import sys
import threading
import time
import traceback

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
UTF8_TYPES = (JSON, CSV)
# InvokeEndpoint's payload limit holds for answers too; past it the request fails, not the instance.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
MAX_MESSAGE_CHARS = 64 * 1024

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


def optional_module(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


np = optional_module("numpy")


def loaded_torch():
    """torch if the script (or the default model_fn) imported it: it takes seconds to import, and scripts without it should not pay that."""
    return sys.modules.get("torch")


def unsupported(content_type):
    """The toolkit's UnsupportedFormatError, which its transformer answers with 500."""
    from sagemaker_inference.errors import UnsupportedFormatError

    return UnsupportedFormatError(content_type)


def media_type(value):
    return (value or "").split(";")[0].strip().lower()


def parse_accept(accept):
    return [media_type(part) for part in accept.split(",") if part.strip()]


# --- The toolkit's defaults ---------------------------------------------------

def default_model_fn(model_dir):
    """The PyTorch container's default: a TorchScript model.pt (or the one .pt/.pth file) in model_dir."""
    torch = optional_module("torch")
    if torch is None:
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
    """The toolkit's decoder: JSON, CSV, NPY and NPZ to a numpy array (a tensor where torch is loaded); plain JSON without numpy."""
    if np is None:
        if media_type(content_type) == JSON:
            return json.loads(input_data)
        raise unsupported(content_type)
    from sagemaker_inference import decoder

    array = decoder.decode(input_data, content_type)
    torch = loaded_torch()
    if torch and isinstance(array, np.ndarray):
        return torch.FloatTensor(array) if media_type(content_type) in UTF8_TYPES else torch.from_numpy(array)
    return array


def default_predict_fn(data, model):
    """The PyTorch container's default: the model called on the data, in eval mode without gradients; any callable otherwise."""
    torch = loaded_torch()
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
    torch = loaded_torch()
    if torch and isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().tolist()
    if np is not None and isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    return value


def default_output_fn(prediction, accept):
    """The toolkit's encoder: the prediction as JSON, CSV or NPY, whichever Accept names first."""
    from sagemaker_inference import encoder

    for kind in parse_accept(accept):
        kind = JSON if kind in ("*/*", "application/*") else kind
        if kind in encoder.SUPPORTED_CONTENT_TYPES and (kind != NPY or np is not None):
            return encoder.encode(to_plain(prediction), kind), kind
    raise unsupported(accept)


# --- Serving ------------------------------------------------------------------

class RequestProcessor:
    def __init__(self, headers):
        self._headers = headers

    def get_request_properties(self):
        return self._headers


class Context:
    """The parts of the model server's context that inference scripts use: system properties, the request's headers, the answer's type."""

    def __init__(self, model_dir, headers=None):
        self.system_properties = {"model_dir": model_dir, "gpu_id": None}
        self.request_processor = [RequestProcessor(headers or {})]
        self.response_content_type = None

    def get_request_header(self, idx, key):
        return self.request_processor[0].get_request_properties().get(key)

    def get_all_request_header(self, idx):
        return self.request_processor[0].get_request_properties()

    def set_response_content_type(self, idx, value):
        self.response_content_type = value


def call(function, context, *args):
    """Calls a handler with or without the trailing context argument, as the toolkit does."""
    try:
        count = len(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        count = len(args)
    if count == len(args) + 1:
        return function(*args, context)
    return function(*args)


def die_with_parent():
    """Ends this process when Kennel's ends, even by kill -9 (Linux's parent-death signal)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


def error_message(error):
    """What the client is told: the toolkit's errors carry a message of their own, other exceptions their str()."""
    message = getattr(error, "message", None)
    text = message if isinstance(message, str) else (str(error) or type(error).__name__)
    return text[:MAX_MESSAGE_CHARS]


def load_handlers(code_dir, program):
    sys.path.insert(0, code_dir)
    module_name = program[:-3].replace("/", ".") if program.endswith(".py") else program
    module = importlib.import_module(module_name)
    handlers = {
        name: getattr(module, name, None)
        for name in ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn", "pre_model_fn", "model_warmup_fn")
    }
    if handlers["transform_fn"] and (handlers["input_fn"] or handlers["predict_fn"] or handlers["output_fn"]):
        raise ValueError("Cannot use transform_fn implementation in conjunction with input_fn, predict_fn, and/or output_fn implementation")
    return handlers


def main():
    die_with_parent()
    model_dir, code_dir, program = sys.argv[1:4]
    # The toolkit's modules, for scripts that import them; an installed sagemaker_inference comes first.
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "toolkit"))
    default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or JSON
    load_context = Context(model_dir)
    try:
        if os.path.exists(os.path.join(code_dir, "requirements.txt")):
            print("code/requirements.txt is not installed: Kennel runs offline, so install what it lists for this Python", file=sys.stderr)
        handlers = load_handlers(code_dir, program)
        if handlers["pre_model_fn"]:
            call(handlers["pre_model_fn"], load_context, model_dir)
        model = call(handlers["model_fn"] or default_model_fn, load_context, model_dir)
        if handlers["model_warmup_fn"]:
            call(handlers["model_warmup_fn"], load_context, model_dir, model)
    except BaseException as error:  # noqa: B036 - SystemExit in the script's import is a load failure too
        traceback.print_exc()
        sys.stderr.flush()
        sys.stdout.flush()
        send({"kind": "load-failed", "message": "{}: {}".format(type(error).__name__, error_message(error))})
        # Not sys.exit: it would wait for any thread the script started, and the load failure would never be reported.
        os._exit(1)

    input_fn = handlers["input_fn"] or default_input_fn
    predict_fn = handlers["predict_fn"] or default_predict_fn
    output_fn = handlers["output_fn"] or default_output_fn

    def transform(context, body, content_type, accept):
        if handlers["transform_fn"]:
            return call(handlers["transform_fn"], context, model, body, content_type, accept)
        data = call(input_fn, context, body, content_type)
        prediction = call(predict_fn, context, data, model)
        return call(output_fn, context, prediction, accept)

    work = queue.Queue()

    def read_requests():
        try:
            while True:
                frame = read_frame()
                if frame is None or frame[0].get("kind") == "close":
                    return
                header, body = frame
                if header.get("kind") == "ping":
                    send({"kind": "pong", "id": header["id"]})
                else:
                    work.put((header, body))
        finally:
            # Kennel closed the pipe, asked to close, or sent what this cannot read: finish what is queued, then end.
            work.put(None)

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
        headers = {"Content-Type": content_type, "Accept": accept}
        if header.get("customAttributes"):
            headers["X-Amzn-SageMaker-Custom-Attributes"] = header["customAttributes"]
        started = time.perf_counter()
        try:
            data = body.decode("utf-8") if media_type(content_type) in UTF8_TYPES else body
            context = Context(model_dir, headers)
            result = transform(context, data, content_type, accept)
            response_type = context.response_content_type or accept
            if isinstance(result, tuple):
                result, response_type = result[0], result[1]
            response_type = response_type if isinstance(response_type, str) else accept
            if isinstance(result, str):
                result = result.encode("utf-8")
            elif isinstance(result, (bytes, bytearray, memoryview)):
                result = bytes(result)
            else:
                result = json.dumps(to_plain(result)).encode("utf-8")
            if len(result) > MAX_RESPONSE_BYTES:
                raise ValueError("the response is {} bytes, over InvokeEndpoint's limit of {} bytes (6 MB)".format(len(result), MAX_RESPONSE_BYTES))
            compute_ms = (time.perf_counter() - started) * 1000
            send({"kind": "result", "id": header["id"], "contentType": response_type, "computeMs": compute_ms}, result)
        except Exception as error:  # noqa: BLE001 - every handler error is the request's answer
            traceback.print_exc()
            sys.stderr.flush()
            status = getattr(error, "status_code", 500)
            status = status if isinstance(status, int) and 400 <= status <= 599 else 500
            compute_ms = (time.perf_counter() - started) * 1000
            send({"kind": "error", "id": header["id"], "status": status, "message": error_message(error), "computeMs": compute_ms})


if __name__ == "__main__":
    main()
