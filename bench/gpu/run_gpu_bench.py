#!/usr/bin/env python3
"""GPU benchmark of the CUDA backend against HuggingFace transformers EsmModel (same weights).

For each model shape (random weights, hub configs of esm2_t33_650M_UR50D and esm2_t36_3B_UR50D):
  1. build EsmForMaskedLM with random weights (seeded), round inv_freq to fp16 as the released
     checkpoints store it, save it in HF format (fp32 safetensors);
  2. for each length set (a UniRef50 mix of real sequences from data/mini-uniref, and fixed
     lengths of 128, 512 and 1024 tokens cut from real sequences) run bench_cuda_embed (bf16) and
     HF EsmModel in bf16 with SDPA attention on length-sorted padded batches under the same token
     budget; report tokens/s, sequences/s, MFU, peak GPU memory and the ratios to HF;
  3. compare the outputs: per-residue cosine of the last layer (first --dump-rows sequences) and
     cosine of the mean embeddings (all sequences); bf16 vs our own fp32 mode (--compare-fp32).

Needs a GPU machine with torch, transformers, safetensors and numpy. Prints a table and writes
JSON (--out) and a Markdown table (--markdown) for docs/PERFORMANCE.md.

  python3 bench/gpu/run_gpu_bench.py --exe build/bench/gpu/bench_cuda_embed --workdir /tmp/esmbench
"""
import argparse
import gzip
import json
import math
import os
import random
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Hub config.json values (facebook/esm2_t33_650M_UR50D, facebook/esm2_t36_3B_UR50D).
MODELS = {
    "650M": dict(layers=33, hidden=1280, heads=20, hub="facebook/esm2_t33_650M_UR50D"),
    "3B": dict(layers=36, hidden=2560, heads=40, hub="facebook/esm2_t36_3B_UR50D"),
}
ALPHABET = ["<cls>", "<pad>", "<eos>", "<unk>", "L", "A", "G", "V", "S", "E", "R", "T", "I", "D", "P", "K",
            "Q", "N", "F", "Y", "M", "H", "W", "C", "X", "B", "U", "Z", "O", ".", "-", "<null_1>", "<mask>"]
TOKEN = {t: i for i, t in enumerate(ALPHABET)}
MAX_RESIDUES = 1022


def read_fasta_gz(path):
    seqs, name, parts = [], None, []
    with gzip.open(path, "rt") as f:
        for line in f:
            line = line.strip()
            if line.startswith(">"):
                if name is not None:
                    seqs.append((name, "".join(parts)))
                name, parts = line[1:].split()[0], []
            elif line:
                parts.append(line.upper())
    if name is not None:
        seqs.append((name, "".join(parts)))
    return seqs


def length_sets(fasta, n_mix, fixed_tokens, n_fixed, seed):
    """name -> [(id, residues)]: a random sample of real sequences (cropped to 1022 residues) and
    fixed token lengths cut from real sequences that are long enough."""
    rng = random.Random(seed)
    seqs = [(i, s) for i, s in read_fasta_gz(fasta) if all(c in TOKEN for c in s)]
    sets = {}
    mix = rng.sample(seqs, min(n_mix, len(seqs)))
    sets["uniref50-mix"] = [(i, s[:MAX_RESIDUES]) for i, s in mix]
    for t in fixed_tokens:
        long_enough = [(i, s[: t - 2]) for i, s in seqs if len(s) >= t - 2]
        rng.shuffle(long_enough)
        sets[f"fixed-{t}"] = long_enough[:n_fixed]
    return sets


def write_sequences(path, seqs):
    with open(path, "w") as f:
        for i, s in seqs:
            f.write(f"{i}\t{s}\n")


def make_random_model(name, shape, outdir, seed):
    """Random-weight EsmForMaskedLM with the hub shape, saved in HF format (fp32)."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file
    from transformers import EsmConfig, EsmForMaskedLM

    if os.path.exists(os.path.join(outdir, "config.json")):
        return outdir
    cfg = EsmConfig(vocab_size=33, hidden_size=shape["hidden"], num_hidden_layers=shape["layers"],
                    num_attention_heads=shape["heads"], intermediate_size=4 * shape["hidden"],
                    hidden_act="gelu", position_embedding_type="rotary", token_dropout=True,
                    layer_norm_eps=1e-5, emb_layer_norm_before=False, pad_token_id=1, mask_token_id=32,
                    max_position_embeddings=1026, attention_probs_dropout_prob=0.0, hidden_dropout_prob=0.0)
    cfg.architectures = ["EsmForMaskedLM"]
    torch.manual_seed(seed)
    model = EsmForMaskedLM(cfg).eval()
    inv_freq = {}
    with torch.no_grad():
        for i, layer in enumerate(model.esm.encoder.layer):
            rot = layer.attention.self.rotary_embeddings
            rot.inv_freq.copy_(rot.inv_freq.half().float())  # as the released checkpoints store it
            inv_freq[f"esm.encoder.layer.{i}.attention.self.rotary_embeddings.inv_freq"] = rot.inv_freq.clone()
    model.save_pretrained(outdir, safe_serialization=True)
    # Both implementations must read the same inv_freq: add it if this transformers version
    # does not persist the buffer.
    path = os.path.join(outdir, "model.safetensors")
    if os.path.exists(path):
        with safe_open(path, "pt") as f:
            keys = set(f.keys())
            if not all(k in keys for k in inv_freq):
                tensors = {k: f.get_tensor(k) for k in keys}
                tensors.update(inv_freq)
                save_file(tensors, path, metadata={"format": "pt"})
    else:
        sys.exit(f"{outdir}: expected one model.safetensors (got a sharded save); raise max_shard_size")
    return outdir


def run_ours(exe, model_dir, seq_file, precision, max_tokens, dump, dump_rows, compare_fp32, peak):
    cmd = [exe, "--model", model_dir, "--sequences", seq_file, "--precision", precision,
           "--max-tokens", str(max_tokens), "--dump", dump, "--dump-rows", str(dump_rows)]
    if compare_fp32:
        cmd += ["--compare-fp32", str(compare_fp32)]
    if peak:
        cmd += ["--peak-tflops", str(peak)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def forward_flops(shape, lengths):
    D, L = shape["hidden"], shape["layers"]
    return sum(T * L * 2.0 * (4 * D * D + 2 * D * 4 * D) + L * 4.0 * T * T * D for T in lengths)


def run_hf(model_dir, seqs, max_tokens, dump_rows, attn):
    """HF EsmModel, bf16, length-sorted right-padded batches of at most max_tokens padded tokens."""
    import torch
    from transformers import EsmModel

    model = EsmModel.from_pretrained(model_dir, add_pooling_layer=False, torch_dtype=torch.bfloat16,
                                     attn_implementation=attn).cuda().eval()
    ids = [[0] + [TOKEN[c] for c in s] + [2] for _, s in seqs]
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    batches, cur = [], []
    for i in order:
        if cur and (len(cur) + 1) * len(ids[cur[0]]) > max_tokens:
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)

    def tensors(batch):
        T = max(len(ids[i]) for i in batch)
        x = torch.full((len(batch), T), 1, dtype=torch.long)
        m = torch.zeros((len(batch), T), dtype=torch.long)
        for r, i in enumerate(batch):
            x[r, : len(ids[i])] = torch.tensor(ids[i])
            m[r, : len(ids[i])] = 1
        return x.cuda(non_blocking=True), m.cuda(non_blocking=True)

    D = model.config.hidden_size
    means = np.zeros((len(ids), D), dtype=np.float32)
    rows = {}
    torch.cuda.reset_peak_memory_stats()
    with torch.inference_mode():
        x, m = tensors(batches[0])
        model(input_ids=x, attention_mask=m)  # warm-up
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        outs = []
        for batch in batches:
            x, m = tensors(batch)
            outs.append((batch, model(input_ids=x, attention_mask=m).last_hidden_state))
        torch.cuda.synchronize()
        secs = time.perf_counter() - t0
        for batch, h in outs:
            h = h.float().cpu().numpy()
            for r, i in enumerate(batch):
                n = len(ids[i]) - 2
                res = h[r, 1 : n + 1]
                means[i] = res.mean(axis=0)
                if i < dump_rows:
                    rows[i] = res
    peak = torch.cuda.max_memory_allocated()
    del model
    torch.cuda.empty_cache()
    return dict(seconds=secs, peak_gpu_bytes=peak, means=means, rows=rows, batches=len(batches))


def cosine_rows(a, b):
    num = (a.astype(np.float64) * b).sum(axis=1)
    den = np.linalg.norm(a.astype(np.float64), axis=1) * np.linalg.norm(b.astype(np.float64), axis=1)
    return num / den


def gpu_name():
    import torch
    return torch.cuda.get_device_name(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", default=os.path.join(REPO, "build", "bench", "gpu", "bench_cuda_embed"))
    ap.add_argument("--workdir", default="/tmp/esmpipe-gpu-bench")
    ap.add_argument("--models", default="650M,3B")
    ap.add_argument("--fasta", default=os.path.join(REPO, "data", "mini-uniref", "uniref50.fasta.gz"))
    ap.add_argument("--mix-sequences", type=int, default=2000)
    ap.add_argument("--fixed", default="128,512,1024", help="fixed token lengths (cls + residues + eos)")
    ap.add_argument("--fixed-sequences", type=int, default=512)
    ap.add_argument("--max-tokens", type=int, default=16384, help="token budget per batch, both sides")
    ap.add_argument("--dump-rows", type=int, default=64)
    ap.add_argument("--compare-fp32", type=int, default=32)
    ap.add_argument("--peak-tflops", type=float, default=0.0, help="0: from the GPU name")
    ap.add_argument("--attn", default="sdpa")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="gpu-bench.json")
    ap.add_argument("--markdown", default="gpu-bench.md")
    args = ap.parse_args()

    if not os.path.exists(args.exe):
        sys.exit(f"{args.exe}: not built (configure with -DESMPIPE_CUDA=ON and build bench_cuda_embed)")
    os.makedirs(args.workdir, exist_ok=True)
    sets = length_sets(args.fasta, args.mix_sequences, [int(t) for t in args.fixed.split(",") if t],
                       args.fixed_sequences, args.seed)
    results = []
    for name in args.models.split(","):
        shape = MODELS[name]
        model_dir = make_random_model(name, shape, os.path.join(args.workdir, f"esm2-{name}-random"), args.seed)
        for set_name, seqs in sets.items():
            seq_file = os.path.join(args.workdir, f"{set_name}.tsv")
            write_sequences(seq_file, seqs)
            dump = os.path.join(args.workdir, f"{name}-{set_name}")
            ours = run_ours(args.exe, model_dir, seq_file, "bf16", args.max_tokens, dump, args.dump_rows,
                            args.compare_fp32 if set_name == "uniref50-mix" else 0, args.peak_tflops)
            hf = run_hf(model_dir, seqs, args.max_tokens, args.dump_rows, args.attn)
            lengths = [len(s) + 2 for _, s in seqs]
            tokens = sum(lengths)
            hf_tflops = forward_flops(shape, lengths) / hf["seconds"] / 1e12
            D = shape["hidden"]
            our_means = np.fromfile(dump + ".means.f32", dtype=np.float32).reshape(len(seqs), D)
            our_rows = np.fromfile(dump + ".rows.f32", dtype=np.float32).reshape(-1, D)
            k = min(args.dump_rows, len(seqs))
            hf_rows = np.concatenate([hf["rows"][i] for i in range(k)])
            row_cos = cosine_rows(our_rows, hf_rows)
            mean_cos = cosine_rows(our_means, hf["means"])
            r = dict(model=name, set=set_name, gpu=ours["gpu"], sequences=len(seqs), tokens=tokens,
                     mean_residues=float(np.mean([len(s) for _, s in seqs])),
                     ours=ours, hf=dict(seconds=hf["seconds"], tokens_per_s=tokens / hf["seconds"],
                                        sequences_per_s=len(seqs) / hf["seconds"], tflops=hf_tflops,
                                        mfu=hf_tflops / ours["peak_tflops"] if ours["peak_tflops"] else 0.0,
                                        peak_gpu_bytes=hf["peak_gpu_bytes"], batches=hf["batches"], attn=args.attn),
                     speedup=ours["tokens_per_s"] / (tokens / hf["seconds"]),
                     memory_ratio=ours["peak_gpu_bytes"] / hf["peak_gpu_bytes"],
                     min_residue_cosine_vs_hf=float(row_cos.min()), min_mean_cosine_vs_hf=float(mean_cos.min()))
            results.append(r)
            print(f"{name:5s} {set_name:13s} ours {ours['tokens_per_s']:10.0f} tok/s MFU {ours['mfu']:.1%} "
                  f"{ours['peak_gpu_bytes'] / 2**30:6.2f} GiB | HF {r['hf']['tokens_per_s']:10.0f} tok/s "
                  f"{hf['peak_gpu_bytes'] / 2**30:6.2f} GiB | x{r['speedup']:.2f} | cos min {r['min_residue_cosine_vs_hf']:.5f}"
                  + (f" | bf16 vs fp32 cos {ours['min_cosine_vs_fp32']:.6f}" if "min_cosine_vs_fp32" in ours else ""),
                  flush=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    with open(args.markdown, "w") as f:
        f.write(f"GPU: {results[0]['gpu'] if results else '?'}; token budget {args.max_tokens} per batch; "
                f"HF transformers EsmModel bf16 attn={args.attn}, length-sorted padded batches.\n\n")
        f.write("| model | lengths | mean res | ours tok/s | ours seq/s | MFU | ours GiB | HF tok/s | HF GiB | "
                "speed-up | min cos vs HF (residue / mean) | bf16 vs fp32 min cos |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
        for r in results:
            o, h = r["ours"], r["hf"]
            f.write(f"| {r['model']} | {r['set']} | {r['mean_residues']:.0f} | {o['tokens_per_s']:.0f} | "
                    f"{o['sequences_per_s']:.1f} | {o['mfu']:.1%} | {o['peak_gpu_bytes'] / 2**30:.2f} | "
                    f"{h['tokens_per_s']:.0f} | {h['peak_gpu_bytes'] / 2**30:.2f} | {r['speedup']:.2f}x | "
                    f"{r['min_residue_cosine_vs_hf']:.5f} / {r['min_mean_cosine_vs_hf']:.5f} | "
                    f"{o.get('min_cosine_vs_fp32', float('nan')):.6f} |\n")
    print(f"wrote {args.out} and {args.markdown}")


if __name__ == "__main__":
    main()
