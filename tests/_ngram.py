"""A scratch n-gram computation in plain CPython, to check lib/ngram.ts against.

    python3 tests/_ngram.py DATASET SEED VAL_SPLIT BLOCK_SIZE

Reads DATASET (one name per line, stripped, blank lines dropped), shuffles it with
random.Random(SEED), holds out the last floor(VAL_SPLIT * len) names, and prints JSON: for n = 0..4
and each k of the grid, the held-out loss of the add-k n-gram model fitted on the rest, and the
loss of each k when fitted on the first 90% of the training names and scored on their last 10%.
Written from the definitions, sharing no code with lib/: context = the previous n - 1 tokens,
BOS before the start; targets = the characters, then BOS; the first BLOCK_SIZE predictions.
"""

import json
import math
import random
import sys

GRID = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1]


def sequences(docs, stoi, bos, block_size):
    for doc in docs:
        tokens = [bos] + [stoi[ch] for ch in doc] + [bos]
        for t in range(min(block_size, len(tokens) - 1)):
            yield tokens[: t + 1], tokens[t + 1]


def context(prefix, n, bos):
    padded = [bos] * n + prefix
    return tuple(padded[len(padded) - (n - 1):]) if n > 1 else ()


def fit(docs, n, stoi, bos, block_size):
    counts, totals = {}, {}
    for prefix, target in sequences(docs, stoi, bos, block_size):
        ctx = context(prefix, n, bos)
        counts[(ctx, target)] = counts.get((ctx, target), 0) + 1
        totals[ctx] = totals.get(ctx, 0) + 1
    return counts, totals


def loss(docs, n, k, stoi, bos, block_size, fitted):
    vocab = bos + 1
    counts, totals = fitted
    total, positions = 0, 0
    for prefix, target in sequences(docs, stoi, bos, block_size):
        if n == 0:
            p = 1 / vocab
        else:
            ctx = context(prefix, n, bos)
            p = (counts.get((ctx, target), 0) + k) / (totals.get(ctx, 0) + k * vocab)
        total += -math.log(p)
        positions += 1
    return total / positions


def main(path, seed, val_split, block_size):
    with open(path, encoding="utf-8") as f:
        docs = [line.strip() for line in f if line.strip()]
    random.Random(seed).shuffle(docs)
    chars = sorted(set("".join(docs)))
    stoi = {ch: i for i, ch in enumerate(chars)}
    bos = len(chars)
    n_train = len(docs) - int(val_split * len(docs))
    train, val = docs[:n_train], docs[n_train:]
    n_fit = len(train) - int(0.1 * len(train))
    out = {"heldout": {}, "choose": {}}
    for n in range(5):
        fitted = fit(train, n, stoi, bos, block_size)
        inner = fit(train[:n_fit], n, stoi, bos, block_size)
        out["heldout"][n] = [loss(val, n, k, stoi, bos, block_size, fitted) for k in GRID]
        out["choose"][n] = [
            loss(train[n_fit:], n, k, stoi, bos, block_size, inner) for k in GRID
        ]
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
