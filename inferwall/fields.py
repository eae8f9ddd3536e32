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
    Field("price", "--price", "price", "$ per GPU-hour: 2.5, $2.5/h.", HARDWARE, envvar="INFERWALL_PRICE", example=2.5),
    Field("link_bandwidth", "--link-bandwidth", "quantity", "Scale-up link bandwidth per GPU, one direction: 450GB/s.", HARDWARE, example="450GB/s"),
    Field("gpus", "--gpus", "int", "Total GPUs [default: tp x pp x dp]. Without --tp one replica spans them all.", LAYOUT, "-n", example=8),
    Field("tp", "--tp", "int", "Tensor-parallel degree.", LAYOUT),
    Field("pp", "--pp", "int", "Pipeline stages.", LAYOUT),
    Field("dp", "--dp", "int", "Replicas (data parallel).", LAYOUT),
    Field("ep", "--ep", "int", "Expert-parallel degree (divides tp).", LAYOUT),
    Field("batch", "--batch", "batch", "Concurrent sequences per replica, or 'max' for the largest that fits.", LAYOUT, "-b", default="1", example=64),
    Field("input_tokens", "--input-tokens", "int", "Prompt tokens per request.", LAYOUT, "-i", default=1024, example=2048),
    Field("output_tokens", "--output-tokens", "int0", "Generated tokens per request.", LAYOUT, "-o", default=256, example=256),
    Field("precision", "--precision", "dtype", "Weights, KV cache and compute together: fp32 bf16 fp16 fp8 int8 int4 fp4 [default: the model's native dtype, 16-bit KV].", PRECISION, "-p", example="fp8"),
    Field("weights", "--weights", "dtype", "Weight dtype.", PRECISION),
    Field("kv", "--kv", "dtype", "KV-cache dtype.", PRECISION),
    Field("compute", "--compute", "dtype", "Compute dtype; an explicit dtype the GPU lacks is an error.", PRECISION),
    Field("ideal", "--ideal", "switch", "Pure roofline: every efficiency 1, every overhead 0.", EFFICIENCY, default=False),
    Field("mfu", "--mfu", "fraction", "Achievable fraction of peak FLOP/s: 0.6 or 60%.", EFFICIENCY, example=0.6),
    Field("mbu", "--mbu", "fraction", "Achievable fraction of memory bandwidth.", EFFICIENCY, example=0.8),
    Field("link_efficiency", "--link-efficiency", "fraction", "Achievable fraction of link bandwidth in collectives.", EFFICIENCY),
    Field("overhead", "--overhead", "duration", "Fixed time per forward pass (scheduling, sampling): 2ms, 500us.", EFFICIENCY, example="2ms"),
    Field("layer_overhead", "--layer-overhead", "duration", "Fixed time per layer per forward pass (kernel launches, synchronisation): 50us.", EFFICIENCY, example="50us"),
    Field("collective_latency", "--collective-latency", "duration", "Latency per collective: 10us.", EFFICIENCY, example="10us"),
    Field("reserve", "--reserve", "quantity", "Runtime reserve per GPU (CUDA context, graphs, buffers) [default: 1GiB].", EFFICIENCY, example="1GiB"),
    Field("memory_fraction", "--memory-fraction", "fraction", "Fraction of GPU memory the engine may use [default: 0.95].", EFFICIENCY, example=0.9),
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
