"""Reads a microgpt-ts checkpoint with Python and numpy alone, as any safetensors reader would,
and runs the GPT of lib/model.ts on a prefix: prints the logits after each token as JSON.

    python3 tests/_checkpoint_numpy.py ck.safetensors PREFIX

tests/checkpoint_numpy_test.ts compares them with the TypeScript model's (to 1e-12): the proof
that a checkpoint is a standard safetensors file whose tensors mean what their names say.
"""

import json
import struct
import sys

import numpy as np


def load_safetensors(path):
    """The safetensors layout: u64 little-endian header size N, N bytes of JSON, raw data."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F64", info["dtype"]
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f8").reshape(info["shape"])
    return tensors, metadata


def rmsnorm(x):
    return x * (np.mean(x * x) + 1e-5) ** -0.5


def softmax(logits):
    exps = np.exp(logits - logits.max())
    return exps / exps.sum()


def gpt(sd, config, token_id, keys, values):
    """One position of lib/model.ts's gpt(): the KV cache is keys/values, one list per layer."""
    n_head = config["nHead"]
    head_dim = config["nEmbd"] // n_head
    pos_id = len(keys[0])
    x = rmsnorm(sd["wte"][token_id] + sd["wpe"][pos_id])
    for li in range(config["nLayer"]):
        layer = lambda name: sd[f"layer{li}.{name}"]
        x_residual = x
        x = rmsnorm(x)
        q, k, v = layer("attn_wq") @ x, layer("attn_wk") @ x, layer("attn_wv") @ x
        keys[li].append(k)
        values[li].append(v)
        K, V = np.array(keys[li]), np.array(values[li])  # [T][nEmbd]
        x_attn = []
        for h in range(n_head):
            hs = slice(h * head_dim, (h + 1) * head_dim)
            weights = softmax(K[:, hs] @ q[hs] / head_dim**0.5)  # [T]
            x_attn.append(weights @ V[:, hs])  # [headDim]
        x = layer("attn_wo") @ np.concatenate(x_attn) + x_residual
        x_residual = x
        x = np.maximum(layer("mlp_fc1") @ rmsnorm(x), 0)
        x = layer("mlp_fc2") @ x + x_residual
    return sd["lm_head"] @ x


def main():
    path, prefix = sys.argv[1], sys.argv[2]
    sd, metadata = load_safetensors(path)
    config = json.loads(metadata["config"])
    uchars = json.loads(metadata["uchars"])
    bos = len(uchars)
    tokens = [bos] + [uchars.index(ch) for ch in prefix]
    keys = [[] for _ in range(config["nLayer"])]
    values = [[] for _ in range(config["nLayer"])]
    logits = [gpt(sd, config, t, keys, values).tolist() for t in tokens]
    json.dump({"tokens": tokens, "logits": logits}, sys.stdout)


if __name__ == "__main__":
    main()
