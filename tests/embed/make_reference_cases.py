#!/usr/bin/python3
"""Makes extra encoder reference cases with the reference ESM-2 implementation (fair-esm).

The weights are random, of the real 8M and 35M shapes, written by our own deterministic
generator (esm_make_random_model, the same code the tests call), so the repository keeps only
small outputs and the tests regenerate the identical checkpoint (its sha256 is recorded and
checked). fair-esm is installed with pip into a private venv on top of Debian's python3-torch
(apt-get install python3-torch); none of its code is kept in the repository.

    tests/embed/make_reference_cases.py --tool build-encoder/tests/embed/esm_make_random_model

Cases: lengths up to 2048 tokens, masked tokens (token-dropout rescaling), fp32 forward one
sequence at a time. Saved per case: tokens, the last representation and logits at every
`stride`-th residue row, the mean of the last representation over residues, and the top-left
and bottom-right 48x48 blocks of the contact map.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHAPES = {"esm2_t6_8M": (6, 320, 20), "esm2_t12_35M": (12, 480, 20)}
# (model, residues, mask rate, seed)
CASES = [
    ("esm2_t6_8M", 48, 0.15, 1),
    ("esm2_t6_8M", 700, 0.0, 2),
    ("esm2_t6_8M", 2046, 0.05, 3),
    ("esm2_t12_35M", 257, 0.10, 4),
    ("esm2_t12_35M", 1100, 0.0, 5),
]
MODEL_SEED = 20240501
BLOCK = 48


def ensure_fair_esm(venv):
    try:
        import esm  # noqa: F401
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    if os.environ.get("ESM_REF_IN_VENV"):
        sys.exit("fair-esm or torch still missing inside the venv (is python3-torch installed?)")
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        subprocess.check_call(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv])
    subprocess.check_call([os.path.join(venv, "bin", "pip"), "install", "-q", "fair-esm==2.0.0"])
    env = dict(os.environ, ESM_REF_IN_VENV="1")
    os.execve(os.path.join(venv, "bin", "python"), [os.path.join(venv, "bin", "python")] + sys.argv, env)


def read_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", (name, e["dtype"])
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"]).copy()
    return out


def fair_esm_state_dict(hf, num_layers):
    """HF EsmForMaskedLM names -> fair-esm ESM2 names (the mapping of esm2-forward.md section 4)."""
    import torch
    sd = {"embed_tokens.weight": hf["esm.embeddings.word_embeddings.weight"]}
    per_layer = {
        "attention.LayerNorm": "self_attn_layer_norm", "attention.self.query": "self_attn.q_proj",
        "attention.self.key": "self_attn.k_proj", "attention.self.value": "self_attn.v_proj",
        "attention.output.dense": "self_attn.out_proj", "LayerNorm": "final_layer_norm",
        "intermediate.dense": "fc1", "output.dense": "fc2",
    }
    for i in range(num_layers):
        for hf_name, esm_name in per_layer.items():
            for p in ("weight", "bias"):
                sd[f"layers.{i}.{esm_name}.{p}"] = hf[f"esm.encoder.layer.{i}.{hf_name}.{p}"]
        sd[f"layers.{i}.self_attn.rot_emb.inv_freq"] = hf[f"esm.encoder.layer.{i}.attention.self.rotary_embeddings.inv_freq"]
    for p in ("weight", "bias"):
        sd[f"emb_layer_norm_after.{p}"] = hf[f"esm.encoder.emb_layer_norm_after.{p}"]
        sd[f"contact_head.regression.{p}"] = hf[f"esm.contact_head.regression.{p}"]
        sd[f"lm_head.dense.{p}"] = hf[f"lm_head.dense.{p}"]
        sd[f"lm_head.layer_norm.{p}"] = hf[f"lm_head.layer_norm.{p}"]
    sd["lm_head.weight"] = hf["lm_head.decoder.weight"]
    sd["lm_head.bias"] = hf["lm_head.bias"]
    return {k: torch.from_numpy(v) for k, v in sd.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tool", required=True, help="path of the built esm_make_random_model")
    ap.add_argument("--out", default=os.path.join(HERE, "data", "fair-esm"))
    ap.add_argument("--venv", default=os.path.join(tempfile.gettempdir(), "esm-ref-venv"))
    args = ap.parse_args()
    ensure_fair_esm(args.venv)
    import numpy as np
    import torch
    import esm
    from esm.model.esm2 import ESM2

    torch.set_num_threads(2)
    alphabet = esm.data.Alphabet.from_architecture("ESM-1b")
    os.makedirs(args.out, exist_ok=True)
    manifest = {"format": "esm2-fair-esm-cases/1", "generator": "tests/embed/make_reference_cases.py",
                "reference": f"fair-esm {esm.version.version}, torch {torch.__version__}, float32",
                "model_seed": MODEL_SEED, "block": BLOCK, "models": {}, "cases": []}
    models = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (L, D, H) in SHAPES.items():
            d = os.path.join(tmp, name)
            sha = subprocess.check_output([args.tool, os.path.join(ROOT, "configs", "models", name + ".json"), d,
                                           str(MODEL_SEED)], text=True).strip()
            with open(os.path.join(d, "model.safetensors"), "rb") as f:
                assert hashlib.sha256(f.read()).hexdigest() == sha
            model = ESM2(num_layers=L, embed_dim=D, attention_heads=H, alphabet=alphabet, token_dropout=True)
            model.load_state_dict(fair_esm_state_dict(read_safetensors(os.path.join(d, "model.safetensors")), L))
            model.eval()
            models[name] = model
            manifest["models"][name] = {"card": f"configs/models/{name}.json", "seed": MODEL_SEED, "dtype": "F32",
                                        "safetensors_sha256": sha}
        for name, n, mask_rate, seed in CASES:
            L = SHAPES[name][0]
            rng = np.random.default_rng(seed)
            ids = rng.integers(4, 29, size=n)  # the 25 residue tokens
            ids[rng.random(n) < mask_rate] = alphabet.mask_idx
            tokens = np.concatenate([[alphabet.cls_idx], ids, [alphabet.eos_idx]]).astype(np.int64)
            with torch.no_grad():
                res = models[name](torch.from_numpy(tokens)[None], repr_layers=[L], return_contacts=True)
            last = res["representations"][L][0].numpy()[1:n + 1]
            logits = res["logits"][0].numpy()[1:n + 1]
            contacts = res["contacts"][0].numpy()
            assert contacts.shape == (n, n)
            stride = max(1, -(-n // 16))  # at most 16 rows
            rows = np.arange(0, n, stride)
            cid = f"{name}.n{n}"
            files = {
                "tokens": tokens,
                "last_rows": last[rows].astype(np.float32),
                "logits_rows": logits[rows].astype(np.float32),
                "mean": last.mean(axis=0, dtype=np.float64).astype(np.float32),
                "contacts_first": contacts[:BLOCK, :BLOCK].astype(np.float32),
                "contacts_last": contacts[-BLOCK:, -BLOCK:].astype(np.float32),
            }
            entry = {"id": cid, "model": name, "residues": n, "masked": int((ids == alphabet.mask_idx).sum()),
                     "row_stride": stride, "files": {}}
            for k, v in files.items():
                fn = f"{cid}.{k}.npy"
                np.save(os.path.join(args.out, fn), v)
                entry["files"][k] = fn
            manifest["cases"].append(entry)
            print(f"{cid}: {entry['masked']} masked, rows every {stride}", flush=True)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
