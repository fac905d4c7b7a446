"""A minimal PyTorch inference server, the peer bench/endpoint measures Kennel against.

What a typical SageMaker PyTorch inference handler does, behind the standard library's
ThreadingHTTPServer: torchvision's ResNet50 with its fc replaced so it gives the 2048 pooled
features (random weights, eval mode), a head of Kennel's shape (2048 -> 128 -> ReLU -> classes,
random weights), softmax and top-5; JPEGs decoded with PIL and prepared with torchvision's ImageNet
eval transform (Resize 256, CenterCrop 224, ToTensor, Normalize). One thread per connection
decodes and preprocesses; the model itself runs one request at a time on all the threads given
to torch (--threads), since several forward passes at once each asking for every core only make
OpenMP's threads fight over the cores.

    /usr/bin/python3 bench/endpoint/pytorch_server.py --port 0 --threads 2 --classes 3

POST /invocations (body: a JPEG) -> {"predictions": [{"index", "label", "probability"} x 5]};
GET /ping -> 200. It listens on 127.0.0.1 only and prints `listening on http://127.0.0.1:PORT`
once the model is loaded and warmed up, after lines saying which torch and BLAS it runs.
"""
import argparse
import io
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch
import torchvision
from PIL import Image
from torch import nn
from torchvision import transforms

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--threads", type=int, required=True)
parser.add_argument("--classes", type=int, required=True)
parser.add_argument("--top-k", type=int, default=5)
# Let every request's forward pass run at once instead of one at a time (for comparison).
parser.add_argument("--parallel-forward", action="store_true")
args = parser.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(0)

backbone = torchvision.models.resnet50(weights=None)
backbone.fc = nn.Identity()
head = nn.Sequential(nn.Linear(2048, 128), nn.ReLU(), nn.Linear(128, args.classes))
model = nn.Sequential(backbone, head).eval()
labels = [f"class_{i:03d}" for i in range(args.classes)]
top_k = min(args.top_k, args.classes)

preprocess = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])

model_lock = threading.Lock() if not args.parallel_forward else None


def classify(jpeg: bytes) -> dict:
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    batch = preprocess(image).unsqueeze(0)
    with torch.inference_mode():
        if model_lock is not None:
            with model_lock:
                logits = model(batch)
        else:
            logits = model(batch)
        probabilities = torch.softmax(logits, dim=1)[0]
        values, indices = torch.topk(probabilities, top_k)
    return {
        "predictions": [
            {"index": int(i), "label": labels[int(i)], "probability": float(v)} for v, i in zip(values.tolist(), indices.tolist())
        ]
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as SDK clients use
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/ping":
            self.reply(200, b"")
        else:
            self.reply(404, b'{"error":"not found"}')

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path != "/invocations":
            self.reply(404, b'{"error":"not found"}')
            return
        try:
            result = classify(body)
        except Exception as error:  # a bad image is the caller's fault: 400 with the reason
            self.reply(400, json.dumps({"error": str(error)}).encode())
            return
        self.reply(200, json.dumps(result).encode())


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def blas_report() -> str:
    config = torch.__config__.show()
    build = re.search(r"BLAS_INFO=(\S+)", config)
    with open("/proc/self/maps") as maps:
        loaded = sorted({line.split()[-1].rsplit("/", 1)[-1] for line in maps if re.search(r"blas|lapack|mkl|gomp", line.split()[-1])})
    return f"torch_blas_build={build.group(1).rstrip(',') if build else 'unknown'} torch_libraries_loaded={','.join(loaded) or 'none'}"


# Warm up: the first forward passes pick kernels and allocate.
warm = Image.new("RGB", (500, 375), (120, 90, 60))
buffer = io.BytesIO()
warm.save(buffer, format="JPEG")
for _ in range(3):
    classify(buffer.getvalue())

server = Server(("127.0.0.1", args.port), Handler)
print(
    f"torch={torch.__version__} torchvision={torchvision.__version__} threads={torch.get_num_threads()} "
    f"mkldnn={torch.backends.mkldnn.is_available()} forward={'parallel' if model_lock is None else 'one at a time'} {blas_report()}",
    flush=True,
)
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
finally:
    server.server_close()
    sys.stdout.flush()
