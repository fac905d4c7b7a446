"""A script-mode job for Kennel's debugger: linear regression by minibatch SGD, in plain Python.

At a sensible learning rate (the default) the loss falls and every rule stays
quiet. At a huge one (--learning_rate 50) each step overshoots further than the
last, the weights overflow to infinity within a few hundred steps, and the
ExplodingTensor rule fires; with a StopTraining action it stops the job.

    HyperParameters: {"learning_rate": "50", "epochs": "2000",
                      "sagemaker_program": "diverging.py",
                      "sagemaker_submit_directory": "file:///.../examples/debugger"}
"""
import argparse
import json
import os
import random

from kennel_debugger import Recorder

parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float, default=0.05)
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--batch_size", type=int, default=32)
args, _ = parser.parse_known_args()

FEATURES, SAMPLES = 8, 256
rng = random.Random(0)
true_w = [rng.uniform(-2, 2) for _ in range(FEATURES)]
X = [[rng.gauss(0, 1) for _ in range(FEATURES)] for _ in range(SAMPLES)]
Y = [sum(w * x for w, x in zip(true_w, row)) + rng.gauss(0, 0.1) for row in X]

w = [0.0] * FEATURES
debug = Recorder()
step = 0
for epoch in range(1, args.epochs + 1):
    losses = []
    for start in range(0, SAMPLES, args.batch_size):
        with debug.loading():
            xs, ys = X[start : start + args.batch_size], Y[start : start + args.batch_size]
        with debug.computing():
            errors = [sum(wi * xi for wi, xi in zip(w, row)) - y for row, y in zip(xs, ys)]
            loss = sum(e * e for e in errors) / len(errors)
            grad = [2 * sum(e * row[i] for e, row in zip(errors, xs)) / len(errors) for i in range(FEATURES)]
            w = [wi - args.learning_rate * gi for wi, gi in zip(w, grad)]
        debug.step(step, loss, epoch=epoch, learning_rate=args.learning_rate, tensors={"w": (w, grad)})
        losses.append(loss)
        step += 1
    train_loss = sum(losses) / len(losses)
    debug.epoch(epoch, train_loss)
    print(f"epoch {epoch}: train_loss={train_loss}", flush=True)

with open(os.path.join(os.environ.get("SM_MODEL_DIR", "."), "weights.json"), "w") as out:
    json.dump({"w": [x if x == x and abs(x) != float("inf") else None for x in w]}, out)
