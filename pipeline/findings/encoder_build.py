"""Build the all-MiniLM-L6-v2 ONNX encoder from the packaged safetensors, without PyTorch, and cache it."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from pipeline.findings.encoder import DIM, EncoderError, model_dir, reinstall_hint

# Bump whenever the graph changes: it is part of the cached file's name.
BUILDER_VERSION = 1
OPSET = 18  # LayerNormalization (17) and reduce axes as inputs (18)
IR_VERSION = 8  # the IR that goes with opset 18; pinned so the bytes do not follow the onnx release
MASK_BIAS = -10000.0  # what BERT adds to the scores of padding tokens: exp() of it is 0 in float32

# No int8: onnxruntime's dynamic quantisation was measured (scripts/bench_encoder.py, 1000 AMI sentences,
# batch 64, this 2-core machine) and fails the accuracy gate of cosine >= 0.995 to float32 in every variant:
# all MatMuls + Gather 0.76 min / 0.91 mean cosine; constant-weight MatMuls per-channel 0.94 / 0.98 at
# ~1.9x speed; leaving the FFN matmuls in float32 0.97 / 0.99 at no speed gain. float32 it is.


def cache_dir() -> Path:
    """Where built models live: $ONNO_CACHE_DIR, else the user cache dir for onno."""
    configured = os.environ.get("ONNO_CACHE_DIR")
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("onno", appauthor=False))


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_model_path(sha: str, cache: Path | None = None) -> Path:
    """The cache file for weights with this sha256, built by this builder version."""
    return (cache or cache_dir()) / "models" / f"minilm-l6-{sha[:16]}-b{BUILDER_VERSION}-fp32.onnx"


def ensure_model(folder: Path | None = None, cache: Path | None = None, *, rebuild: bool = False) -> Path:
    """The path of the built ONNX model for the package's weights, building it first if it is not cached."""
    folder = folder or model_dir()
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise EncoderError(f"The sentence-encoder weights {weights} are missing.", reinstall_hint())
    target = cached_model_path(file_sha256(weights), cache)
    if rebuild or not target.is_file():
        model = build_bytes(folder)
        try:
            write_atomically(target, model)
        except OSError as exc:
            raise EncoderError(f"Cannot write the built sentence encoder to {target.parent} ({exc}).",
                               "Set ONNO_CACHE_DIR to a writable folder.") from exc
    return target


def write_atomically(target: Path, data: bytes) -> None:
    """Write data to target through a temp file in the same folder, so readers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes it private; the cache is readable like any cache
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load_weights(folder: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """config.json and the tensors of model.safetensors; a clear EncoderError if either is unreadable."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        config = json.loads((folder / "config.json").read_text())
        weights = load_file(str(folder / "model.safetensors"))
    except (OSError, ValueError, SafetensorError) as exc:
        raise EncoderError(f"The sentence-encoder model files in {folder} are unreadable ({exc}).",
                           reinstall_hint()) from exc
    expected = {"embeddings.word_embeddings.weight": (config.get("vocab_size"), DIM)}
    for layer in range(config.get("num_hidden_layers", 0)):
        expected[f"encoder.layer.{layer}.output.LayerNorm.bias"] = (DIM,)
    for name, shape in expected.items():
        if name not in weights or tuple(weights[name].shape) != shape:
            raise EncoderError(f"The sentence-encoder weights in {folder} lack {name} {shape}.", reinstall_hint())
    return config, weights


class GraphBuilder:
    """Collects nodes and initializers, naming each intermediate uniquely and in a fixed order."""

    def __init__(self):
        self.nodes: list = []
        self.initializers: list = []
        self.count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs) -> str:
        from onnx import helper

        self.count += 1
        out = f"{op_type.lower()}_{self.count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out


def build_graph(config: dict, weights: dict[str, np.ndarray]):
    """The BERT encoder plus mean pooling and L2 normalisation as an ONNX ModelProto."""
    from onnx import TensorProto, helper

    heads = config["num_attention_heads"]
    head_dim = DIM // heads
    eps = float(config.get("layer_norm_eps", 1e-12))
    g = GraphBuilder()

    def w(name: str) -> np.ndarray:
        return weights[name].astype(np.float32)

    def linear(x: str, prefix: str) -> str:
        # torch stores Linear weights as (out, in); MatMul wants (in, out).
        weight = g.const(prefix + ".weight.T", w(prefix + ".weight").T)
        return g.op("Add", g.op("MatMul", x, weight), g.const(prefix + ".bias", w(prefix + ".bias")))

    def layer_norm(x: str, prefix: str) -> str:
        return g.op("LayerNormalization", x, g.const(prefix + ".weight", w(prefix + ".weight")),
                    g.const(prefix + ".bias", w(prefix + ".bias")), axis=-1, epsilon=eps)

    i64 = lambda *values: np.array(values, dtype=np.int64)  # noqa: E731
    f32 = lambda value: np.array(value, dtype=np.float32)  # noqa: E731
    g.const("zero", i64(0))
    g.const("axis1", i64(1))
    g.const("axis_last", i64(-1))
    g.const("split_heads", i64(0, 0, heads, head_dim))
    g.const("merge_heads", i64(0, 0, DIM))
    g.const("scale", f32(1.0 / np.sqrt(head_dim)))
    g.const("mask_bias", f32(MASK_BIAS))
    g.const("f_one", f32(1.0))
    g.const("half", f32(0.5))
    g.const("inv_sqrt2", f32(1.0 / np.sqrt(2.0)))
    g.const("min_count", f32(1e-9))  # sentence-transformers' clamp on the token count
    g.const("min_norm", f32(1e-12))  # torch.nn.functional.normalize's eps

    # Embeddings: word + position + token type 0 (Onno only ever encodes single sentences).
    seq_len = g.op("Shape", "input_ids", start=1, end=2)  # 1-D: [tokens]
    positions = g.op("Slice", g.const("position_table", w("embeddings.position_embeddings.weight")),
                     "zero", seq_len, "zero")
    words = g.op("Gather", g.const("word_table", w("embeddings.word_embeddings.weight")), "input_ids", axis=0)
    token_type = g.const("token_type_0", w("embeddings.token_type_embeddings.weight")[0])
    hidden = layer_norm(g.op("Add", g.op("Add", words, positions), token_type), "embeddings.LayerNorm")

    # (batch, seq) mask -> (batch, 1, 1, seq) additive bias on the attention scores.
    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    bias = g.op("Mul", g.op("Sub", "f_one", mask), "mask_bias")
    bias = g.op("Unsqueeze", bias, g.const("axes12", i64(1, 2)))

    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."

        def heads_of(x: str, name: str, perm: list[int], p=p) -> str:
            return g.op("Transpose", g.op("Reshape", linear(x, p + "attention.self." + name), "split_heads"),
                        perm=perm)

        query = heads_of(hidden, "query", [0, 2, 1, 3])
        key = heads_of(hidden, "key", [0, 2, 3, 1])  # already transposed for Q @ K^T
        value = heads_of(hidden, "value", [0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", query, key), "scale"), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), value)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), "merge_heads")
        attended = layer_norm(g.op("Add", linear(context, p + "attention.output.dense"), hidden),
                              p + "attention.output.LayerNorm")
        inner = linear(attended, p + "intermediate.dense")
        # Exact (erf) GELU, as BERT's "gelu"; onnxruntime fuses this pattern into one kernel.
        erf = g.op("Erf", g.op("Mul", inner, "inv_sqrt2"))
        gelu = g.op("Mul", g.op("Mul", inner, "half"), g.op("Add", erf, "f_one"))
        hidden = layer_norm(g.op("Add", linear(gelu, p + "output.dense"), attended), p + "output.LayerNorm")

    # Mean over real tokens, then unit length: sentence-transformers' Pooling + Normalize modules.
    weights_3d = g.op("Unsqueeze", mask, "axis_last")
    summed = g.op("ReduceSum", g.op("Mul", hidden, weights_3d), "axis1", keepdims=0)
    counts = g.op("Max", g.op("ReduceSum", weights_3d, "axis1", keepdims=0), "min_count")
    mean = g.op("Div", summed, counts)
    norm = g.op("Max", g.op("ReduceL2", mean, "axis_last", keepdims=1), "min_norm")
    g.nodes.append(helper.make_node("Div", [mean, norm], ["sentence_embedding"], name="normalise"))

    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
              for name in ("input_ids", "attention_mask")]
    output = helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", DIM])
    graph = helper.make_graph(g.nodes, "all_minilm_l6_v2", inputs, [output], g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="onno",
                              producer_version=str(BUILDER_VERSION))
    model.ir_version = IR_VERSION
    return model


def build_bytes(folder: Path) -> bytes:
    """The serialised float32 model for the weights in folder, checked by onnx."""
    config, weights = load_weights(folder)
    if config.get("hidden_size") != DIM or config.get("position_embedding_type", "absolute") != "absolute":
        raise EncoderError(f"{folder}/config.json is not all-MiniLM-L6-v2's.", reinstall_hint())
    from onnx import checker

    model = build_graph(config, weights)
    checker.check_model(model, full_check=True)
    return model.SerializeToString()


def main(argv: list[str] | None = None) -> int:
    """Rebuild the cached model by hand: python -m pipeline.findings.encoder_build."""
    try:
        started = time.perf_counter()
        target = ensure_model(rebuild=True)
    except EncoderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"built {target} ({target.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
