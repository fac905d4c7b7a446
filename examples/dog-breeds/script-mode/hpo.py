"""Dog-breed classification as a SageMaker script-mode training script.

A ResNet50 pretrained on ImageNet (or, with --weights none, randomly
initialised) is frozen and a new head,
Linear(2048, 128) -> ReLU -> Linear(128, 133), is trained with Adam and
cross-entropy on the dogImages layout: train/, valid/ and test/, each holding
one folder per breed (133 of them). The hyperparameters arrive as arguments,
the data and model folders default to SageMaker's SM_CHANNEL_TRAINING and
SM_MODEL_DIR, so the same file runs on SageMaker's PyTorch image and on
Kennel's. The last lines are "Testing Loss: <x>" and "Testing Accuracy: <x>",
for a tuning job's metric definitions; model.pth (the state dict) and
classes.json (the breed of each output) are saved to the model folder.

    python3 hpo.py --learning_rate 0.001 --batch_size 64 --epochs 5 \
        --data ./dogImages --model_dir ./model

Needs torch and torchvision; torchvision downloads the pretrained weights the
first time. --weights none skips the download (the backbone's weights are
random, so the head learns little): for a machine with no network, to check
the pipeline end to end.
"""
import argparse
import copy
import json
import os

import torch
from torch import nn, optim
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learning_rate", type=float, default=0.001)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--data", default=os.environ.get("SM_CHANNEL_TRAINING"))
    parser.add_argument("--model_dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--num_workers", type=int, default=min(4, int(os.environ.get("SM_NUM_CPUS", "2"))))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--weights", choices=["imagenet", "none"], default="imagenet",
        help="the frozen backbone's weights: ImageNet's (downloaded) or random (offline)",
    )
    args = parser.parse_args()
    if not args.data:
        parser.error("--data is required when SM_CHANNEL_TRAINING is not set")
    if not args.model_dir:
        parser.error("--model_dir is required when SM_MODEL_DIR is not set")
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    return args


def load_splits(data_dir, batch_size, num_workers):
    """The train, valid and test loaders; only training images are augmented and shuffled."""
    normalize = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    train_transform = transforms.Compose(
        [transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize]
    )
    eval_transform = transforms.Compose(
        [transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), normalize]
    )
    splits = {
        "train": datasets.ImageFolder(os.path.join(data_dir, "train"), transform=train_transform),
        "valid": datasets.ImageFolder(os.path.join(data_dir, "valid"), transform=eval_transform),
        "test": datasets.ImageFolder(os.path.join(data_dir, "test"), transform=eval_transform),
    }
    classes = splits["train"].classes
    for name in ("valid", "test"):
        if splits[name].classes != classes:
            raise ValueError(f"{name}/ does not hold the same breed folders as train/")
    loaders = {
        name: DataLoader(dataset, batch_size=batch_size, shuffle=(name == "train"), num_workers=num_workers)
        for name, dataset in splits.items()
    }
    return loaders, classes


def net(num_classes, weights="imagenet"):
    """ResNet50 with frozen weights (ImageNet's, or random with weights="none") and a new trainable head."""
    pretrained = weights == "imagenet"
    try:
        model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V1 if pretrained else None)
    except AttributeError:  # torchvision before 0.13
        model = models.resnet50(pretrained=pretrained)
    for parameter in model.parameters():
        parameter.requires_grad = False
    model.fc = nn.Sequential(nn.Linear(2048, 128), nn.ReLU(inplace=True), nn.Linear(128, num_classes))
    return model


def train_epoch(model, loader, criterion, optimizer, device):
    """One pass over the training split; loss and accuracy are means over samples."""
    # The frozen backbone stays in eval mode, so its batch-norm statistics are ImageNet's and do not drift.
    model.eval()
    model.fc.train()
    loss_sum, correct, count = 0.0, 0, 0
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * inputs.size(0)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        count += inputs.size(0)
    return loss_sum / count, correct / count


def evaluate(model, loader, criterion, device):
    """Mean loss and accuracy over every sample of a split."""
    model.eval()
    loss_sum, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            outputs = model(inputs)
            loss_sum += criterion(outputs, labels).item() * inputs.size(0)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
            count += inputs.size(0)
    return loss_sum / count, correct / count


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    loaders, classes = load_splits(args.data, args.batch_size, args.num_workers)
    print(f"Classes: {len(classes)}; images: " + ", ".join(f"{name} {len(loader.dataset)}" for name, loader in loaders.items()))

    model = net(len(classes), args.weights).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.fc.parameters(), lr=args.learning_rate)

    best_loss, best_head = float("inf"), None
    for epoch in range(1, args.epochs + 1):
        train_loss, train_accuracy = train_epoch(model, loaders["train"], criterion, optimizer, device)
        valid_loss, valid_accuracy = evaluate(model, loaders["valid"], criterion, device)
        print(
            f"Epoch {epoch}/{args.epochs}: train loss {train_loss:.4f}, train accuracy {train_accuracy:.4f}, "
            f"validation loss {valid_loss:.4f}, validation accuracy {valid_accuracy:.4f}"
        )
        # The test split is kept for the end: the epoch that is kept is chosen on the validation split.
        if best_head is None or valid_loss < best_loss:
            best_loss, best_head = valid_loss, copy.deepcopy(model.fc.state_dict())
    model.fc.load_state_dict(best_head)

    test_loss, test_accuracy = evaluate(model, loaders["test"], criterion, device)
    print(f"Testing Loss: {test_loss:.6f}")
    print(f"Testing Accuracy: {test_accuracy:.6f}")

    os.makedirs(args.model_dir, exist_ok=True)
    torch.save(model.cpu().state_dict(), os.path.join(args.model_dir, "model.pth"))
    with open(os.path.join(args.model_dir, "classes.json"), "w") as f:
        json.dump(classes, f)


if __name__ == "__main__":
    main()
