"""Read a Hugging Face ``config.json`` (already parsed into a dict) into a ``ModelArch``.

Field names differ between model families; this module knows the families below and maps them onto the
one shape the core understands. No file I/O happens here: the caller parses the JSON and passes ``source``
(usually the file's path) so that every error message can name it.

Families: llama, mistral, mixtral, qwen2, qwen2_moe, qwen3, qwen3_moe, deepseek_v2/v3, gpt_oss, gemma,
gemma2, gemma3 (text or multimodal), llama4 (multimodal, under ``text_config``), gpt2, bert (and its
encoder relatives), phi3, falcon. Other decoder-only configs that use the standard Llama field names are
read the same way as Llama (gated FFN; ``sliding_window`` on every layer when set).

Defaults mirror the ``transformers`` config classes where published configs rely on them (GPT-2's
``n_inner``, Falcon's FFN width and KV heads, Gemma's ``head_dim``/``vocab_size``/window pattern,
Llama 4's NoPE interval).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from inferwall.core import architecture
from inferwall.core import limits as L
from inferwall.core.types import MLA, CoreError, ModelArch, MoE
from inferwall.errors import InputError

# FFNs with two matrices (up, down); every other family is gated (gate, up, down).
_PLAIN_FFN = frozenset({"gpt2", "gpt_bigcode", "gpt_neox", "falcon"})
# Bidirectional encoders: plain FFN, no decode phase.
_ENCODERS = frozenset({"bert", "roberta", "xlm-roberta", "camembert", "distilbert", "electra", "mpnet"})
# Families whose lm_head is tied to the input embedding unless the config says otherwise
# (transformers' PretrainedConfig default; Llama-style config classes override it to False).
_TIED_BY_DEFAULT = frozenset({"gpt2", "gpt_bigcode", "falcon", "gemma", "gemma2", "gemma3"}) | _ENCODERS
# Families with a fixed default head_dim instead of hidden_size / num_attention_heads.
_HEAD_DIM_DEFAULT = {"gemma": 256, "gemma2": 256, "gemma3": 256}
# vocab_size defaults that published configs rely on (google/gemma-3-27b-it's text_config omits it).
_VOCAB_DEFAULT = {"gemma2": 256000, "gemma3": 262208}
# Families that never use a sliding window, whatever stray field their config carries.
_NO_WINDOW = frozenset({"llama", "gpt2", "gpt_bigcode", "gpt_neox", "falcon", "deepseek_v2", "deepseek_v3",
                        "gemma"}) | _ENCODERS
_QWEN = frozenset({"qwen2", "qwen2_moe", "qwen3", "qwen3_moe"})
_LOCAL_LAYER_TYPES = frozenset({"sliding_attention", "chunked_attention"})

_DTYPES = {"bfloat16": "bf16", "bf16": "bf16", "float16": "fp16", "fp16": "fp16", "half": "fp16",
           # fp32 checkpoints are served in 16-bit: treat them as the bf16 serving default.
           "float32": "bf16", "fp32": "bf16", "float": "bf16"}
_QUANT_METHODS = {"fp8": "fp8", "fbgemm_fp8": "fp8", "mxfp4": "mxfp4"}

_MISSING = object()

# The physical range of each integer field (inferwall.core.limits): loops over layers and experts stay short,
# and no product of sizes overflows. Fields not listed are bounded by ANY_COUNT.
_LIMITS = {
    **dict.fromkeys(("num_hidden_layers", "n_layer", "max_window_layers", "first_k_dense_replace", "moe_layer_freq",
                     "interleave_moe_layer_step", "decoder_sparse_step", "no_rope_layer_interval",
                     "sliding_window_pattern"), L.LAYERS),
    **dict.fromkeys(("hidden_size", "n_embd", "kv_lora_rank", "q_lora_rank"), L.HIDDEN),
    **dict.fromkeys(("num_attention_heads", "n_head", "num_key_value_heads", "num_kv_heads", "n_head_kv"), L.HEADS),
    **dict.fromkeys(("head_dim", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"), L.HEAD_DIM),
    **dict.fromkeys(("intermediate_size", "intermediate_size_mlp", "n_inner", "ffn_hidden_size",
                     "moe_intermediate_size", "shared_expert_intermediate_size"), L.FFN_WIDTH),
    "vocab_size": L.VOCAB,
    **dict.fromkeys(("n_routed_experts", "num_local_experts", "num_experts", "num_experts_per_tok",
                     "experts_per_token", "n_shared_experts"), L.EXPERTS),
    **dict.fromkeys(("sliding_window", "attention_chunk_size"), L.WINDOW),
}
ANY_COUNT = L.WINDOW


def max_context(config: Any) -> int | None:
    """The longest sequence a config declares (``max_position_embeddings``, GPT-2's ``n_positions``), if any."""
    if not isinstance(config, dict):
        return None
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else config
    for key in ("max_position_embeddings", "n_positions"):
        value = text.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def model_from_hf_config(config: dict, source: str, model_id: str | None = None) -> ModelArch:
    """Turn a parsed HF ``config.json`` into a ``ModelArch``; ``InputError`` naming ``source`` on bad input.

    ``model_id`` defaults to the config's ``_name_or_path``, else the stem of ``source`` (the parent
    folder's name when the file is called ``config.json``).
    """
    if not isinstance(config, dict):
        raise InputError(f"{source}: expected a JSON object, got {type(config).__name__}")
    text, prefix = config, ""
    nested = config.get("text_config")
    if nested is not None:
        if not isinstance(nested, dict):
            raise InputError(f"{source}: field 'text_config' must be an object")
        text, prefix = nested, "text_config."
    r = _Reader(text, source, prefix)
    family = _family(config, text)

    num_layers = r.integer("num_hidden_layers", "n_layer")
    hidden = r.integer("hidden_size", "n_embd")
    heads = r.integer("num_attention_heads", "n_head")
    kv_heads = _kv_heads(family, r, heads)
    vocab = r.integer("vocab_size", default=_VOCAB_DEFAULT.get(family, _MISSING))

    mla = _mla(r)
    if mla:
        head_dim = mla.qk_nope_head_dim + mla.qk_rope_head_dim
    else:
        head_dim = r.integer("head_dim", default=_HEAD_DIM_DEFAULT.get(family))
        if head_dim is None:
            if hidden % heads:
                raise InputError(f"{source}: field '{prefix}head_dim' is missing and hidden_size ({hidden}) is not "
                                 f"a multiple of num_attention_heads ({heads})")
            head_dim = hidden // heads

    window, window_layers = _window(family, r, num_layers)
    model_id = model_id or config.get("_name_or_path") or _stem(source)
    m = ModelArch(
        id=str(model_id),
        name=str(model_id),
        num_layers=num_layers,
        hidden_size=hidden,
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=_dense_width(family, r, hidden),
        ffn_matrices=2 if family in _PLAIN_FFN or family in _ENCODERS else 3,
        vocab_size=vocab,
        tie_embeddings=_tied(family, config, text, source, prefix),
        encoder=family in _ENCODERS,
        window=window,
        window_layers=window_layers,
        moe=_moe(family, r, num_layers),
        mla=mla,
        native_dtype=_native_dtype(config, text),
    )
    try:
        architecture.validate(m)
    except CoreError as exc:
        raise InputError(f"{source}: {exc}") from None
    return m


# ----------------------------------------------------------------- field access


class _Reader:
    """Typed lookups in one config section; every failure is a one-line InputError naming the field."""

    def __init__(self, section: dict, source: str, prefix: str) -> None:
        self.section, self.source, self.prefix = section, source, prefix

    def raw(self, name: str, *aliases: str) -> tuple[str, Any]:
        """(the key found, its value), or (name, None) when neither it nor an alias is set."""
        for key in (name, *aliases):
            value = self.section.get(key)
            if value is not None:
                return key, value
        return name, None

    def integer(self, name: str, *aliases: str, default: Any = _MISSING, minimum: int = 1) -> Any:
        key, value = self.raw(name, *aliases)
        if value is None:
            if default is _MISSING:
                also = f" (or {', '.join(aliases)})" if aliases else ""
                raise InputError(f"{self.source}: missing field '{self.prefix}{name}'{also}")
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            from inferwall.units import brief

            kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise InputError(f"{self.source}: field '{self.prefix}{key}' must be {kind}, got {brief(value)}")
        limit = _LIMITS.get(key, ANY_COUNT)
        if value > limit.high:
            raise InputError(f"{self.source}: field '{self.prefix}{key}' must be at most {L.show(limit.high)} "
                             f"({limit.why}), got {L.show(value)}")
        return value

    def int_list(self, name: str) -> list[int] | None:
        value = self.section.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
            raise InputError(f"{self.source}: field '{self.prefix}{name}' must be a list of integers")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.section.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise InputError(f"{self.source}: field '{self.prefix}{name}' must be true or false, got {value!r}")
        return value


def _stem(source: str) -> str:
    path = PurePath(str(source))
    if path.stem == "config" and path.parent.name:
        return path.parent.name
    return path.stem or str(source)


def _family(config: dict, text: dict) -> str:
    kind = str(text.get("model_type") or config.get("model_type") or "").strip().lower()
    if kind.endswith("_text"):
        kind = kind[: -len("_text")]
    if kind in ("refinedweb", "refinedwebmodel"):
        kind = "falcon"
    return kind


# ----------------------------------------------------------------- attention


def _kv_heads(family: str, r: _Reader, heads: int) -> int:
    if family == "falcon":
        # transformers' Falcon: num_kv_heads counts only with the new decoder architecture (40B, 180B) or
        # without multi-query; otherwise (7B) there is one shared KV head.
        if r.flag("new_decoder_architecture", False) or not r.flag("multi_query", True):
            return r.integer("num_kv_heads", "n_head_kv", default=heads)
        return 1
    if family == "gpt_bigcode":
        return 1 if r.flag("multi_query", True) else heads
    return r.integer("num_key_value_heads", default=heads)


def _mla(r: _Reader) -> MLA | None:
    if r.section.get("kv_lora_rank") is None:
        return None
    return MLA(
        kv_lora_rank=r.integer("kv_lora_rank"),
        qk_rope_head_dim=r.integer("qk_rope_head_dim"),
        qk_nope_head_dim=r.integer("qk_nope_head_dim"),
        v_head_dim=r.integer("v_head_dim"),
        q_lora_rank=r.integer("q_lora_rank", default=0),  # null (DeepSeek-V2-Lite): queries projected directly
    )


def _window(family: str, r: _Reader, num_layers: int) -> tuple[int, int]:
    """(window size, how many layers use it); (0, 0) when every layer attends globally."""
    t = r.section
    layer_types = t.get("layer_types")
    if layer_types is not None:
        if not isinstance(layer_types, list) or len(layer_types) != num_layers:
            raise InputError(f"{r.source}: field '{r.prefix}layer_types' must be a list of {num_layers} entries")
        local = sum(1 for kind in layer_types if kind in _LOCAL_LAYER_TYPES)
        chunked = "chunked_attention" in layer_types
        if local == 0:
            return 0, 0
        size = r.integer("attention_chunk_size", default=8192) if chunked else r.integer("sliding_window")
    elif family == "llama4":
        if t.get("attention_chunk_size") is None:
            return 0, 0
        size = r.integer("attention_chunk_size")
        # no_rope_layers[i] == 1: a RoPE layer with chunked attention; 0: a global NoPE layer. An empty or
        # absent list means the default: every no_rope_layer_interval-th layer (4th) is NoPE.
        flags = r.int_list("no_rope_layers")
        if flags:
            if len(flags) != num_layers:
                raise InputError(f"{r.source}: field '{r.prefix}no_rope_layers' must list {num_layers} layers")
            local = sum(1 for f in flags if f)
        else:
            interval = r.integer("no_rope_layer_interval", default=4)
            local = num_layers - num_layers // interval
    elif family in ("gemma2", "gpt_oss"):
        # Even layers (0, 2, ...) slide, odd layers are global.
        size = r.integer("sliding_window", default=4096 if family == "gemma2" else _MISSING)
        local = (num_layers + 1) // 2
    elif family == "gemma3":
        size = r.integer("sliding_window", default=4096)
        # Every pattern-th layer is global; the others slide (27B: 5 local : 1 global).
        pattern = r.integer("sliding_window_pattern", default=6)
        local = num_layers - num_layers // pattern
    elif family in _QWEN:
        if not r.flag("use_sliding_window", False) or t.get("sliding_window") is None:
            return 0, 0
        size = r.integer("sliding_window")
        # transformers' Qwen2/Qwen3: layers from index max_window_layers onward slide.
        first = r.integer("max_window_layers", default=0, minimum=0)
        local = max(0, num_layers - first)
    elif family in _NO_WINDOW:
        return 0, 0
    else:  # mistral, mixtral, phi3 and other Llama-style configs: the window applies to every layer
        if t.get("sliding_window") is None:
            return 0, 0
        size = r.integer("sliding_window")
        local = num_layers
    max_positions = t.get("max_position_embeddings")
    if isinstance(max_positions, int) and not isinstance(max_positions, bool) and size >= max_positions > 0:
        return 0, 0  # a window as long as the context never caps anything
    return (size, local) if local else (0, 0)


# ----------------------------------------------------------------- FFN and MoE


def _dense_width(family: str, r: _Reader, hidden: int) -> int:
    if family == "gpt2" or family == "gpt_bigcode":
        return r.integer("n_inner", default=4 * hidden)
    if family == "falcon":
        return r.integer("ffn_hidden_size", default=4 * hidden)
    if family == "llama4":
        # intermediate_size is the expert width; dense layers use intermediate_size_mlp.
        return r.integer("intermediate_size_mlp")
    return r.integer("intermediate_size")


def _moe(family: str, r: _Reader, num_layers: int) -> MoE | None:
    t = r.section
    if t.get("n_routed_experts") is not None:  # DeepSeek V2/V3
        width = r.integer("moe_intermediate_size")
        shared = r.integer("n_shared_experts", default=0, minimum=0)
        first_dense = r.integer("first_k_dense_replace", default=0, minimum=0)
        every = r.integer("moe_layer_freq", default=1)
        count = sum(1 for i in range(num_layers) if i >= first_dense and i % every == 0)
        moe = MoE(num_experts=r.integer("n_routed_experts"), experts_per_token=r.integer("num_experts_per_tok"),
                  expert_intermediate_size=width, shared_experts=shared,
                  shared_expert_intermediate_size=width if shared else 0, moe_layers=count)
    elif t.get("num_local_experts") is not None:  # Mixtral, gpt-oss, Llama 4
        width = r.integer("intermediate_size")
        shared, count = 0, num_layers
        if family == "llama4":
            shared = 1  # Llama 4's MoE block always carries one shared expert as wide as a routed one
            listed = r.int_list("moe_layers")
            if listed is not None:
                count = len(set(listed))
            else:
                step = r.integer("interleave_moe_layer_step", default=1)
                count = len(range(step - 1, num_layers, step))
        moe = MoE(num_experts=r.integer("num_local_experts"),
                  experts_per_token=r.integer("num_experts_per_tok", "experts_per_token"),
                  expert_intermediate_size=width, shared_experts=shared,
                  shared_expert_intermediate_size=width if shared else 0, moe_layers=count)
    elif t.get("num_experts") and t.get("moe_intermediate_size") is not None:  # Qwen2/Qwen3-MoE (0 = dense)
        step = r.integer("decoder_sparse_step", default=1)
        dense_only = set(r.int_list("mlp_only_layers") or [])
        count = sum(1 for i in range(num_layers) if i not in dense_only and (i + 1) % step == 0)
        shared_width = r.integer("shared_expert_intermediate_size", default=0, minimum=0)
        moe = MoE(num_experts=r.integer("num_experts"), experts_per_token=r.integer("num_experts_per_tok"),
                  expert_intermediate_size=r.integer("moe_intermediate_size"),
                  shared_experts=1 if shared_width else 0, shared_expert_intermediate_size=shared_width,
                  moe_layers=count)
    else:
        return None
    return moe if moe.moe_layers else None  # moe_layers == 0 would mean "every layer" to the core


# ----------------------------------------------------------------- embeddings and dtype


def _tied(family: str, config: dict, text: dict, source: str, prefix: str) -> bool:
    for section, where in ((text, prefix), (config, "")):
        value = section.get("tie_word_embeddings")
        if value is not None:
            if not isinstance(value, bool):
                raise InputError(f"{source}: field '{where}tie_word_embeddings' must be true or false, got {value!r}")
            return value
    return family in _TIED_BY_DEFAULT


def _native_dtype(config: dict, text: dict) -> str:
    for section in (text, config):
        quant = section.get("quantization_config")
        if isinstance(quant, dict):
            method = str(quant.get("quant_method", "")).lower()
            if method in _QUANT_METHODS:
                return _QUANT_METHODS[method]
            if method in ("gptq", "awq") and quant.get("bits") in (4, 8):
                return "int4" if quant["bits"] == 4 else "int8"
    for section in (text, config):
        for key in ("torch_dtype", "dtype"):
            value = section.get(key)
            if isinstance(value, str) and value.lower() in _DTYPES:
                return _DTYPES[value.lower()]
    return "bf16"
