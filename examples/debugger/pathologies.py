"""Purpose-made sick training runs for Kennel's debugger rules, in plain Python.

A small classifier (8 features -> 16 ReLU units -> 3 classes, softmax cross-entropy,
minibatch SGD) on three Gaussian blobs, recorded with kennel_debugger.py. With
--pathology healthy it learns and the rules stay quiet; each other pathology is a
classic way for training to go wrong, and one rule catches it:

    poor_init     layers initialised at wildly different scales  -> PoorWeightInitialization
    vanishing     inputs a billion times too small               -> VanishingGradient
    dead_relu     hidden biases so negative no unit ever fires   -> DeadRelu
    overtraining  training on long after the loss has settled    -> Overtraining
    stalls        a step now and then waits 200 ms               -> StepOutlier
    busy_loader   each batch is decoded on the spot, on every core -> CPUBottleneck
"""
import argparse
import hashlib
import math
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

from kennel_debugger import Recorder

parser = argparse.ArgumentParser()
parser.add_argument("--pathology", default="healthy", choices=["healthy", "poor_init", "vanishing", "dead_relu", "overtraining", "stalls", "busy_loader"])
parser.add_argument("--epochs", type=int, default=6)
parser.add_argument("--learning_rate", type=float, default=0.1)
parser.add_argument("--batch_size", type=int, default=16)
args, _ = parser.parse_known_args()
sick = args.pathology

FEATURES, HIDDEN, CLASSES = 8, 16, 3
rng = random.Random(0)


def blobs(per_class, scale):
    rows = []
    for label in range(CLASSES):
        for _ in range(per_class):
            rows.append(([(3.0 if f % CLASSES == label else 0.0) + rng.gauss(0, 0.7) for f in range(FEATURES)], label))
    rng.shuffle(rows)
    return [([x * scale for x in features], label) for features, label in rows]


scale = 1e-9 if sick == "vanishing" else 1.0
train, valid = blobs(80, scale), blobs(20, scale)


def gaussian_matrix(rows, cols, sd):
    return [[rng.gauss(0, sd) for _ in range(cols)] for _ in range(rows)]


# He initialisation, unless the pathology says otherwise.
w1 = gaussian_matrix(HIDDEN, FEATURES, 5.0 if sick == "poor_init" else math.sqrt(2 / FEATURES))
w2 = gaussian_matrix(CLASSES, HIDDEN, 0.001 if sick == "poor_init" else math.sqrt(2 / HIDDEN))
b1 = [-50.0 if sick == "dead_relu" else 0.0] * HIDDEN
b2 = [0.0] * CLASSES


def forward(x):
    pre = [sum(w * xi for w, xi in zip(row, x)) + b for row, b in zip(w1, b1)]
    hidden = [max(0.0, p) for p in pre]
    logits = [sum(w * h for w, h in zip(row, hidden)) + b for row, b in zip(w2, b2)]
    top = max(logits)
    exps = [math.exp(z - top) for z in logits]
    total = sum(exps)
    return pre, hidden, [e / total for e in exps]


def loss_of(rows):
    return sum(-math.log(max(1e-12, forward(x)[2][y])) for x, y in rows) / len(rows)


LOADER_THREADS = len(os.sched_getaffinity(0))
loader = ThreadPoolExecutor(LOADER_THREADS)
pixels = bytes(range(256)) * 4096


def decode_part(seconds):
    # Hashing stands in for decoding: like a real image decoder it releases the GIL,
    # so the loader's threads keep every core busy, as a DataLoader's workers do.
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        hashlib.sha256(pixels).digest()


def decode(batch):
    """What a loader that decodes images on the spot costs: 20 ms of every core per batch."""
    list(loader.map(decode_part, [0.02] * LOADER_THREADS))
    return batch


debug = Recorder()
debug.classes([f"blob-{c}" for c in range(CLASSES)], [sum(1 for _, y in train if y == c) for c in range(CLASSES)])
epochs = {"overtraining": 30, "stalls": 12}.get(sick, args.epochs)
step = 0
for epoch in range(1, epochs + 1):
    losses = []
    for start in range(0, len(train), args.batch_size):
        with debug.loading():
            batch = train[start : start + args.batch_size]
            if sick == "busy_loader":
                batch = decode(batch)
        with debug.computing():
            if sick == "stalls" and step % 20 == 5:
                time.sleep(0.2)
            g_w1 = [[0.0] * FEATURES for _ in range(HIDDEN)]
            g_b1 = [0.0] * HIDDEN
            g_w2 = [[0.0] * HIDDEN for _ in range(CLASSES)]
            g_b2 = [0.0] * CLASSES
            activations = []
            batch_loss = 0.0
            n = len(batch)
            for x, y in batch:
                pre, hidden, probs = forward(x)
                activations.append(hidden)
                batch_loss += -math.log(max(1e-12, probs[y])) / n
                d_logits = [(p - (1.0 if c == y else 0.0)) / n for c, p in enumerate(probs)]
                for c in range(CLASSES):
                    g_b2[c] += d_logits[c]
                    for h in range(HIDDEN):
                        g_w2[c][h] += d_logits[c] * hidden[h]
                for h in range(HIDDEN):
                    if pre[h] <= 0:
                        continue
                    d_pre = sum(w2[c][h] * d_logits[c] for c in range(CLASSES))
                    g_b1[h] += d_pre
                    for f in range(FEATURES):
                        g_w1[h][f] += d_pre * x[f]
            # The hook sees the weights the gradients were taken at.
            seen = {"fc1.weight": (w1, g_w1), "fc1.bias": (b1, g_b1), "fc2.weight": (w2, g_w2), "fc2.bias": (b2, g_b2)}
            lr = args.learning_rate
            w1 = [[w - lr * g for w, g in zip(row, grow)] for row, grow in zip(w1, g_w1)]
            b1 = [b - lr * g for b, g in zip(b1, g_b1)]
            w2 = [[w - lr * g for w, g in zip(row, grow)] for row, grow in zip(w2, g_w2)]
            b2 = [b - lr * g for b, g in zip(b2, g_b2)]
        debug.step(
            step,
            batch_loss,
            epoch=epoch,
            learning_rate=args.learning_rate,
            tensors=seen,
            relus={"relu1": activations},
        )
        losses.append(batch_loss)
        step += 1
    train_loss = sum(losses) / len(losses)
    validation_loss = loss_of(valid)
    debug.epoch(epoch, train_loss, validation_loss=validation_loss)
    print(f"epoch {epoch}: train_loss={train_loss:.4f} validation_loss={validation_loss:.4f}", flush=True)

with open(os.path.join(os.environ.get("SM_MODEL_DIR", "."), "pathology.txt"), "w") as out:
    out.write(sick + "\n")
