"""The scenario fields every command shares, in one table.

``estimate``, ``compare``, ``sweep`` and ``check`` flags, plan-file keys and the plan JSON Schema are all
generated from ``FIELDS``, so they cannot drift apart. Each field is an attribute of ``inputs.Options``.
Pure data: no typer, rich or yaml here.
"""

from __future__ import annotations

from dataclasses import dataclass
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

MODEL = "Model"
HARDWARE = "Hardware"
LAYOUT = "Layout and workload"
PRECISION = "Precision"
EFFICIENCY = "Efficiency and memory"
SERVING = "Serving engine"

# kinds: text, dtype, int, batch, count, quantity, price, fraction, duration, switch
SCHEMA_DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp6", "fp4", "mxfp4", "nvfp4", "int4")


@dataclass(frozen=True)
class Field:
    name: str  # the Options attribute and the plan-file key
    flag: str  # the long flag
    kind: str
    help: str
    panel: str
    short: str | None = None
    default: Any = None  # what estimate shows as its default (None: decided by inputs.build)
    envvar: str | None = None
    example: Any = None

    @property
    def is_switch(self) -> bool:
        return self.kind == "switch"

    @property
    def cli_int(self) -> bool:
        """``estimate`` types these as whole numbers on the command line."""
        return self.kind in ("int", "int0")


FIELDS: tuple[Field, ...] = (
    Field("model", "--model", "text", "Catalog id or alias, a Hugging Face config.json, or an inferwall model YAML.", MODEL, "-m", example="llama-3.1-70b"),
    Field("params", "--params", "count", "A bare model given by parameter count, e.g. 1.6T or 70B.", MODEL, example="70B"),
    Field("active_params", "--active-params", "count", "Parameters used per token (mixture of experts), e.g. 280B.", MODEL, example="13B"),
    Field("layers", "--layers", "int", "Bare model: layers (with --heads, --kv-heads, --head-dim gives a KV cache).", MODEL),
    Field("hidden", "--hidden", "int", "Bare model: hidden size (sizes tensor-parallel all-reduces).", MODEL),
    Field("heads", "--heads", "int", "Bare model: attention heads.", MODEL),
    Field("kv_heads", "--kv-heads", "int", "Bare model: KV heads (GQA/MQA).", MODEL),
    Field("head_dim", "--head-dim", "int", "Bare model: head dimension.", MODEL),
    Field("gpu", "--gpu", "text", "Accelerator id or alias [default: h100].", HARDWARE, "-g", envvar="INFERWALL_GPU", example="h100"),
    Field("flops", "--flops", "quantity", "Peak FLOP/s per GPU, any dtype: 989TFLOPS, 3e15.", HARDWARE, example="989TFLOPS"),
    Field("bandwidth", "--bandwidth", "quantity", "Memory bandwidth per GPU: 3.35TB/s.", HARDWARE, example="3.35TB/s"),
    Field("memory", "--memory", "quantity", "Memory per GPU: 80GB, 80GiB.", HARDWARE, example="80GiB"),
    Field("price", "--price", "price", "$ per GPU-hour for every GPU (2.5, $2.5/h), or per accelerator: h100=2.1,mi300x=2.5 (one value, also in compare/sweep; a GPU it does not name keeps its catalog price, with a note) [default: the catalog price].", HARDWARE, envvar="INFERWALL_PRICE", example=2.5),
    Field("link_bandwidth", "--link-bandwidth", "quantity", "Scale-up link bandwidth per GPU, one direction: 450GB/s.", HARDWARE, example="450GB/s"),
    Field("gpus", "--gpus", "int", "Total GPUs [default: tp x pp x dp]. Without --tp one replica spans them all.", LAYOUT, "-n", example=8),
    Field("tp", "--tp", "int", "Tensor-parallel degree.", LAYOUT),
    Field("pp", "--pp", "int", "Pipeline stages.", LAYOUT),
    Field("dp", "--dp", "int", "Replicas (data parallel).", LAYOUT),
    Field("ep", "--ep", "int", "Expert-parallel degree: divides tp, or a multiple of it for attention data parallelism (--tp 1 --dp 16 --ep 16).", LAYOUT),
    Field("batch", "--batch", "batch", "Concurrent requests per replica (data-parallel rank), or 'max': the most the memory and the engine's caps allow.", LAYOUT, "-b", default="1", example=64),
    Field("input_tokens", "--input-tokens", "int", "Prompt tokens per request.", LAYOUT, "-i", default=1024, example=2048),
    Field("output_tokens", "--output-tokens", "int0", "Generated tokens per request.", LAYOUT, "-o", default=256, example=256),
    Field("engine", "--engine", "text", "Serving engine profile: vllm, sglang, trtllm, trtllm-cpp, llamacpp, gptfast, ideal [default: vllm; ideal with --ideal].", SERVING, "-e", envvar="INFERWALL_ENGINE", example="trtllm"),
    Field("engine_file", "--engine-file", "text", "A user engine profile YAML (see specs/engines/; `inferwall calibrate` writes one).", SERVING, example="my-cluster.yaml"),
    Field("batching", "--batching", "text", "continuous (in-flight batching, the steady state of a real engine) or static (prefill the batch, then decode in lock step) [default: the engine's].", SERVING, example="continuous"),
    Field("num_requests", "--num-requests", "int", "A finite offline run of N requests (continuous batching), including the partial last wave.", SERVING, example=3000),
    Field("max_running_requests", "--max-running-requests", "int", "Cap on requests in flight per engine instance [default: the engine's] (vLLM --max-num-seqs).", SERVING, example=256),
    Field("cuda_graph_max_batch", "--cuda-graph-max-batch", "int", "Largest batch the engine captures in a CUDA graph; larger iterations pay a launch per kernel [default: the engine's].", SERVING, example=512),
    Field("chunked_prefill", "--chunked-prefill", "text", "on or off: split long prompts across iterations within the token budget [default: the engine's].", SERVING, example="on"),
    Field("token_budget", "--token-budget", "int", "Tokens per engine iteration [default: the engine's] (vLLM --max-num-batched-tokens).", SERVING, example=8192),
    Field("precision", "--precision", "dtype", "Weights and compute together: fp32 bf16 fp16 fp8 int8 int4 fp4; the KV cache follows for 16- and 8-bit and stays 16-bit for 4-bit [default: the model's native dtype, 16-bit KV].", PRECISION, "-p", example="fp8"),
    Field("quant", "--quant", "text", "A published checkpoint recipe (per-module dtypes and block scales): modelopt-fp8, modelopt-fp4, gguf-q4_k_m, gguf-q8_0, awq-int4, ... (see specs/quant.yaml).", PRECISION, "-q", example="modelopt-fp4"),
    Field("weights", "--weights", "dtype", "Weight dtype.", PRECISION),
    Field("kv", "--kv", "dtype", "KV-cache dtype.", PRECISION),
    Field("compute", "--compute", "dtype", "Compute dtype; an explicit dtype the GPU lacks is an error.", PRECISION),
    Field("ideal", "--ideal", "switch", "Pure roofline: every efficiency 1, every overhead 0.", EFFICIENCY, default=False),
    Field("mfu", "--mfu", "fraction", "GEMM efficiency of every compute dtype, a fraction of dense peak: 0.6 or 60% (attention keeps its own) [default: specs/kernels.yaml].", EFFICIENCY, example=0.6),
    Field("mbu", "--mbu", "fraction", "Achieved fraction of memory bandwidth when streaming weights (decode attention keeps its own).", EFFICIENCY, example=0.8),
    Field("link_efficiency", "--link-efficiency", "fraction", "Achieved fraction of link bandwidth in collectives (all-reduce, all-to-all).", EFFICIENCY),
    Field("overhead", "--overhead", "duration", "Host time per iteration the GPU waits for (scheduling, sampling), fully exposed: 2ms, 500us [default: the engine's host cost].", EFFICIENCY, example="2ms"),
    Field("layer_overhead", "--layer-overhead", "duration", "Kernel floor per layer per pass (launch, ramp and tail of its kernels): 30us [default: kernel floor x the engine's kernels per layer].", EFFICIENCY, example="30us"),
    Field("collective_latency", "--collective-latency", "duration", "Small-message latency per collective: 10us.", EFFICIENCY, example="10us"),
    Field("reserve", "--reserve", "quantity", "Runtime reserve per GPU outside the KV pool (CUDA context, graphs, buffers) [default: the engine's].", EFFICIENCY, example="1GiB"),
    Field("memory_fraction", "--memory-fraction", "fraction", "The engine's memory fraction, with its semantics (vLLM: of total memory; TensorRT-LLM: of free memory) [default: the engine's].", EFFICIENCY, example=0.9),
    # issue 14 item 5: what is otherwise a warning (a context longer than the model supports) becomes an error
    Field("strict", "--strict", "switch", "Treat warnings about the inputs as errors (exit 2): a context longer than the model supports.", LAYOUT, default=False),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
BY_FLAG: dict[str, Field] = {f.flag: f for f in FIELDS}


def field_for_flag(flag: str) -> Field | None:
    return BY_FLAG.get(flag)


def value_schema(f: Field) -> dict[str, Any]:
    """The JSON Schema of one field's value in a plan file."""
    number_or_text = {"type": ["number", "string"]}
    schema: dict[str, Any]
    if f.kind == "switch":
        schema = {"type": "boolean"}
    elif f.kind == "text":
        schema = {"type": "string", "minLength": 1}
    elif f.kind == "dtype":
        schema = {"type": "string", "enum": list(SCHEMA_DTYPES)}
    elif f.kind in ("int", "int0"):
        schema = {"anyOf": [{"type": "integer", "minimum": 0 if f.kind == "int0" else 1},
                            {"type": "string", "pattern": r"^\s*[0-9][0-9_.]*\s*[kKMGTB]?\s*$"}]}
    elif f.kind == "batch":
        schema = {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": r"^(max|[0-9][0-9_.]*[kK]?)$"}]}
    elif f.kind == "fraction":
        schema = {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                            {"type": "string", "pattern": r"^\s*[0-9.]+\s*%?\s*$"}]}
    elif f.kind == "price":
        schema = {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}]}
    else:  # count, quantity, duration
        schema = dict(number_or_text)
    schema["description"] = f.help
    if f.example is not None:
        schema["examples"] = [f.example]
    return schema
