#!/usr/bin/env python3
"""Sentence-encoder speed and accuracy: build, load, throughput, single-sentence latency, fp32 against int8.

    .venv/bin/python scripts/bench_encoder.py [--sentences 1000] [--batch 64] [--singles 200]

Sentences are real meeting utterances: the AMI `dev` split's cues in ../shared/corpus/ami, in order.
Builds both variants in memory (the cache is not touched) and prints one line per figure. Timings depend
on what else the machine is doing: run it on a quiet machine, and more than once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline.findings import encoder_build
from pipeline.findings.encoder import SentenceEncoder, model_dir
from pipeline.transcripts import parse_vtt

ROOT = Path(__file__).resolve().parent.parent
AMI = ROOT.parent / "shared" / "corpus" / "ami"
REFERENCE = ROOT / "tests" / "pipeline" / "data" / "minilm_reference.json"


def meeting_sentences(count: int) -> list[str]:
    """The first `count` cue texts of the AMI dev meetings."""
    split = json.loads((AMI / "splits.json").read_text())["dev"]
    texts: list[str] = []
    for meeting in split:
        texts += [s.text for s in parse_vtt((AMI / f"{meeting}.vtt").read_text()) if s.text.strip()]
        if len(texts) >= count:
            break
    return texts[:count]


def timed(fn, *args):
    """fn(*args) and the seconds it took."""
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


def quantized(fp32: bytes) -> bytes:
    """The most accurate int8 dynamic quantisation tried: constant-weight MatMuls, per-channel weights."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as temp:
        source, target = Path(temp, "fp32.onnx"), Path(temp, "int8.onnx")
        source.write_bytes(fp32)
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"],
                         extra_options={"MatMulConstBOnly": True})
        return target.read_bytes()


def main() -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--singles", type=int, default=200)
    args = parser.parse_args()
    folder = model_dir()
    texts = meeting_sentences(args.sentences)
    reference = json.loads(REFERENCE.read_text())["sentences"]
    ref_texts = [r["text"] for r in reference]
    ref_vectors = np.array([r["embedding"] for r in reference], dtype=np.float32)
    ref_vectors /= np.linalg.norm(ref_vectors, axis=1, keepdims=True)

    with tempfile.TemporaryDirectory() as cache:
        _, seconds = timed(encoder_build.ensure_model, folder, Path(cache))
        print(f"BUILD cold (hash + graph + check + write): {seconds:.2f} s")
        _, seconds = timed(SentenceEncoder, folder, Path(cache))
        print(f"LOAD cached model (hash weights + tokenizer + session): {seconds:.2f} s")
    fp32, seconds = timed(lambda: encoder_build.build_graph(*encoder_build.load_weights(folder)).SerializeToString())
    print(f"BUILD fp32 graph in memory: {seconds:.2f} s, {len(fp32) / 1e6:.1f} MB")
    int8, seconds = timed(quantized, fp32)
    print(f"BUILD int8 quantisation: {seconds:.2f} s, {len(int8) / 1e6:.1f} MB")

    vectors = {}
    for name, model in (("fp32", fp32), ("int8", int8)):
        encoder = SentenceEncoder.from_bytes(model, folder)
        encoder.encode(texts[:args.batch], batch_size=args.batch)  # warm-up
        vectors[name], seconds = timed(lambda e=encoder: e.encode(texts, batch_size=args.batch))
        print(f"THROUGHPUT {name}: {len(texts) / seconds:.0f} sentences/s "
              f"({len(texts)} AMI sentences, batch {args.batch}, {seconds:.2f} s)")
        latencies = []
        for text in texts[:args.singles]:
            _, seconds = timed(encoder.encode, [text])
            latencies.append(seconds * 1000)
        q = statistics.quantiles(latencies, n=20)
        print(f"LATENCY {name} single sentence: p50 {statistics.median(latencies):.1f} ms, p95 {q[18]:.1f} ms")
        cosines = np.sum(encoder.encode(ref_texts) * ref_vectors, axis=1)
        print(f"PARITY {name} vs sentence-transformers ({len(ref_texts)} sentences): min cosine {cosines.min():.6f}")
    cosines = np.sum(vectors["fp32"] * vectors["int8"], axis=1)
    print(f"AGREEMENT int8 vs fp32 on {len(texts)} sentences: min {cosines.min():.4f}, mean {cosines.mean():.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
