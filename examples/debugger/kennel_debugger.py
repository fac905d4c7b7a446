"""Kennel's debugger from a script-mode training script: one file, no dependencies.

Copy this file next to your entry point. Kennel gives every script-mode job the
file to write to (KENNEL_DEBUGGER_TRACE) and how often to save tensors
(KENNEL_DEBUGGER_SAVE_INTERVAL, set when the job has a DebugHookConfig or a
debugger rule); outside Kennel the recorder does nothing. Each call appends one
JSON line in Kennel's trace protocol (docs/debugger.md). Kennel samples CPU and
memory itself, and evaluates the job's rules on what the script records.

    from kennel_debugger import Recorder

    debug = Recorder()
    debug.classes(labels, samples_per_class)
    for epoch in range(1, epochs + 1):
        for batch in loader:
            with debug.loading():          # time spent waiting for data
                x, y = next(batches)
            with debug.computing():        # time spent computing
                loss = train_step(x, y)
            debug.step(step, loss, epoch=epoch, learning_rate=lr,
                       tensors={"fc.weight": (fc.weight, fc.weight.grad)},
                       relus={"relu1": hidden_activations})
            step += 1
        debug.epoch(epoch, train_loss, validation_loss=val_loss)

Tensors and activations may be lists of numbers (nested or flat), NumPy arrays
or PyTorch tensors. Their statistics are computed only at the steps the hook
saves (debug.saves(step)), so passing them at every step costs nothing between.
"""
import json
import math
import os
import random
import time
from contextlib import contextmanager

HISTOGRAM_BINS = 30
SPREAD_SAMPLE = 4096


def _flat(values):
    """A flat list of floats from a list, a NumPy array or a PyTorch tensor."""
    if hasattr(values, "detach"):  # torch.Tensor
        values = values.detach().cpu().reshape(-1).tolist()
    elif hasattr(values, "ravel"):  # numpy.ndarray
        values = values.ravel().tolist()
    out = []
    stack = [values]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            out.append(float(item))
    return out


def _percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    rank = max(0, math.ceil(p / 100 * len(sorted_values)) - 1)
    return sorted_values[rank]


def _histogram(values):
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    low, high = min(finite), max(finite)
    counts = [0] * HISTOGRAM_BINS
    width = (high - low) / HISTOGRAM_BINS or 1.0
    for v in finite:
        counts[min(HISTOGRAM_BINS - 1, int((v - low) / width))] += 1
    return {"min": low, "max": high, "counts": counts}


def tensor_statistics(name, values, gradient, histogram=False):
    """The figures Kennel's tensor rules read, for one tensor and its gradient."""
    v = _flat(values)
    g = _flat(gradient) if gradient is not None else [0.0] * len(v)
    n = max(1, len(v))
    mean = sum(v) / n
    finite_g = [x for x in g if math.isfinite(x)]
    sample = finite_g if len(finite_g) <= SPREAD_SAMPLE else random.Random(0).sample(finite_g, SPREAD_SAMPLE)
    sample.sort()
    stats = {
        "name": name,
        "norm": math.sqrt(sum(x * x for x in v)),
        "variance": max(0.0, sum(x * x for x in v) / n - mean * mean),
        "gradient_norm": math.sqrt(sum(x * x for x in g)),
        "gradient_mean_abs": sum(abs(x) for x in g) / max(1, len(g)),
        "gradient_spread": _percentile(sample, 95) - _percentile(sample, 5),
        "nan_count": sum(1 for x in v + g if math.isnan(x)),
        "infinite_count": sum(1 for x in v + g if math.isinf(x)),
    }
    if histogram:
        hist = _histogram(v)
        if hist:
            stats["histogram"] = hist
    return stats


def relu_activity(layer, activations):
    """Per unit, the percentage of the batch's samples for which it was above zero; activations are batch × units."""
    if hasattr(activations, "detach"):
        activations = activations.detach().cpu().tolist()
    elif hasattr(activations, "tolist"):
        activations = activations.tolist()
    rows = [_flat(row) for row in activations]
    units = len(rows[0]) if rows else 0
    active = [0] * units
    for row in rows:
        for i, a in enumerate(row):
            if a > 0:
                active[i] += 1
    return {"layer": layer, "active_percent": [100.0 * a / max(1, len(rows)) for a in active]}


class Recorder:
    def __init__(self, path=None, save_interval=None, save_first_steps=None, save_first_every=None):
        self.path = path or os.environ.get("KENNEL_DEBUGGER_TRACE")
        interval = save_interval or os.environ.get("KENNEL_DEBUGGER_SAVE_INTERVAL")
        self.save_interval = int(interval) if interval else None
        self.save_first_steps = int(save_first_steps or os.environ.get("KENNEL_DEBUGGER_SAVE_FIRST_STEPS") or 0)
        self.save_first_every = max(1, int(save_first_every or os.environ.get("KENNEL_DEBUGGER_SAVE_FIRST_EVERY") or 1))
        self._file = open(self.path, "a", buffering=1, encoding="utf-8") if self.path else None
        self._data_ms = 0.0
        self._compute_ms = 0.0
        self._saved = 0

    def saves(self, step):
        """Whether the hook saves tensors at this step."""
        if self.save_interval is None:
            return False
        if step < self.save_first_steps:
            return step % self.save_first_every == 0
        return step % self.save_interval == 0

    @contextmanager
    def loading(self):
        start = time.perf_counter()
        try:
            yield
        finally:
            self._data_ms += (time.perf_counter() - start) * 1000

    @contextmanager
    def computing(self):
        start = time.perf_counter()
        try:
            yield
        finally:
            self._compute_ms += (time.perf_counter() - start) * 1000

    def step(self, step, loss, epoch=None, learning_rate=None, data_ms=None, compute_ms=None, tensors=None, relus=None):
        record = {
            "type": "step",
            "step": int(step),
            "loss": float(loss),
            "data_ms": self._data_ms if data_ms is None else data_ms,
            "compute_ms": self._compute_ms if compute_ms is None else compute_ms,
        }
        self._data_ms = self._compute_ms = 0.0
        if epoch is not None:
            record["epoch"] = int(epoch)
        if learning_rate is not None:
            record["learning_rate"] = float(learning_rate)
        if self.saves(step):
            # A histogram at every tenth save keeps the trace small.
            histogram = self._saved % 10 == 0
            self._saved += 1
            if tensors:
                record["tensors"] = [tensor_statistics(name, pair[0], pair[1], histogram) for name, pair in tensors.items()]
            if relus:
                record["relus"] = [relu_activity(layer, acts) for layer, acts in relus.items()]
        self._write(record)

    def epoch(self, epoch, train_loss, step=None, validation_loss=None, train_accuracy=None, validation_accuracy=None):
        record = {"type": "epoch", "epoch": int(epoch), "train_loss": float(train_loss)}
        for key, value in (("step", step), ("validation_loss", validation_loss), ("train_accuracy", train_accuracy), ("validation_accuracy", validation_accuracy)):
            if value is not None:
                record[key] = int(value) if key == "step" else float(value)
        self._write(record)

    def classes(self, labels, samples, mispredicted=None):
        record = {"type": "classes", "labels": [str(label) for label in labels], "samples": [int(n) for n in samples]}
        if mispredicted is not None:
            record["mispredicted"] = [float(x) for x in mispredicted]
        self._write(record)

    def _write(self, record):
        if self._file:
            # json.dumps writes NaN and Infinity bare, which Kennel reads.
            self._file.write(json.dumps(record) + "\n")
