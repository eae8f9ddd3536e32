"""``--emit vllm|sglang|trtllm``: the launch command (or config file) that realises an estimate's configuration.

The flag names come from the engine profile's ``flags:`` table (``specs/engines/<id>.yaml``), which says which
release and file they were read from; nothing here spells a flag on its own. What is emitted is what the estimate
assumed: the tensor, pipeline, data and expert parallel sizes; the running-request cap (the requests the estimate
runs) and the token budget; the memory fraction (in that engine's semantics) and the KV-cache dtype; speculative
decoding; prefix caching when a hit rate was given; the prefill and decode roles of disaggregated pools.
``Launch.flags`` and ``Launch.keys`` list every flag and config key used, so a test can check each against the
profile's table.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.errors import InputError

ENGINES = ("vllm", "sglang", "trtllm")

# inferwall's KV dtypes -> each engine's --kv-cache-dtype value (16-bit caches follow the model: "auto")
KV_VALUES = {
    "vllm": {"fp8": "fp8"},
    "sglang": {"fp8": "fp8_e4m3"},
    "trtllm": {"fp8": "fp8", "nvfp4": "nvfp4"},
}
SIXTEEN_BIT = ("bf16", "fp16", "fp32")


def engine_name(text: str) -> str:
    name = str(text).strip().lower()
    if name not in ENGINES:
        raise InputError(f"--emit: unknown engine {text!r}; valid: {', '.join(ENGINES)}")
    return name


@dataclass
class Launch:
    engine: str
    text: str = ""
    flags: list[str] = field(default_factory=list)  # command-line flags used
    keys: list[str] = field(default_factory=list)  # JSON or YAML keys used (dotted for nested YAML)
    notes: list[str] = field(default_factory=list)
    native_recipe: str = ""


def _flag(table: dict[str, Any], key: str) -> str | None:
    """The flag a table entry names (a string entry, or its ``flag``); None where the engine has none."""
    entry = table.get(key)
    if entry is None:
        return None
    if isinstance(entry, str):
        return entry
    if entry.get("supported") is False:
        return None
    return entry.get("flag")


class _Command:
    """One launch command: flags in the order added, with their values."""

    def __init__(self, launch: Launch, head: str):
        self.launch = launch
        self.head = head
        self.parts: list[str] = []

    def add(self, flag: str | None, value: Any = None) -> None:
        if not flag:
            return
        self.launch.flags.append(flag)
        self.parts.append(flag if value is None else f"{flag} {shlex.quote(str(value))}")

    def text(self) -> str:
        return " \\\n  ".join([self.head] + self.parts)


@dataclass(frozen=True)
class Role:
    """One kind of engine instance to launch: its layout, limits, and its role in disaggregated serving."""

    name: str  # "" (aggregated), prefill or decode
    instances: int
    tp: int
    pp: int
    dp: int
    ep: int
    running: int | None  # the running-request cap to set (None: the engine's default)


def _roles(est) -> list[Role]:
    s = est.scenario
    sv = est.serving
    running = sv.running if sv is not None else s.workload.batch
    d = s.disaggregation
    if d is None:
        par = s.parallelism
        return [Role("", 1, par.tp, par.pp, par.dp, par.ep, running)]
    p, q = d.prefill, d.decode
    return [Role("prefill", d.prefill_instances, p.tp, p.pp, p.dp, p.ep, None),
            Role("decode", d.decode_instances, q.tp, q.pp, q.dp, q.ep, running)]


def _speculative_method(est) -> str:
    spec = est.scenario.speculative
    return spec.draft if spec else ""


def _header(est, profile, model_name: str) -> list[str]:
    s = est.scenario
    flags = profile.flags
    lat, cost = est.latency, est.cost
    gpus = s.disaggregation.gpus if s.disaggregation else s.parallelism.gpus
    line = (f"# inferwall: {s.model.id} on {gpus} x {s.accelerator.id}, {s.workload.input_tokens} in / "
            f"{s.workload.output_tokens} out, batch {s.workload.batch}")
    result = f"# estimated: TTFT {lat.ttft_s * 1e3:.4g} ms" + (
        f", TPOT {lat.tpot_s * 1e3:.4g} ms" if lat.tpot_s is not None else "") + (
        f", ${cost.usd_per_million_output_tokens:.4g}/M output tokens" if cost.usd_per_million_output_tokens else "")
    return [line, result,
            f"# {profile.name} {flags.get('version', profile.version)} flags, read from {flags.get('source', '?')}",
            f"# model: {model_name}"]


def launch(est, profile, model_name: str, model_is_placeholder: bool = False, native_recipe: str | None = None) -> Launch:
    """The launch text for ``est`` with the engine ``profile`` (one of ENGINES); ``native_recipe`` is the recipe of
    the model's published checkpoint (nothing to say when the estimate assumed it)."""
    engine = profile.id
    if engine not in ENGINES:
        raise InputError(f"--emit: unknown engine {engine!r}; valid: {', '.join(ENGINES)}")
    out = Launch(engine=engine)
    lines = _header(est, profile, model_name)
    if model_is_placeholder:
        out.notes.append(f"--emit: {est.scenario.model.id} has no Hugging Face id in the catalog; replace "
                         f"{model_name} with your checkpoint")
    out.native_recipe = native_recipe or ""
    builder = {"vllm": _vllm, "sglang": _sglang, "trtllm": _trtllm}[engine]
    body = builder(est, profile, model_name, out)
    out.text = "\n".join(lines + body) + "\n"
    return out


# --------------------------------------------------------------------------- shared values


def _limits(est, role: Role, profile) -> dict[str, Any]:
    s = est.scenario
    eng, mem, prec = s.engine, s.memory, s.precision
    kv = KV_VALUES[profile.id].get(prec.kv) if prec.kv not in SIXTEEN_BIT else None
    default_chunked = profile.params.get("limits.chunked_prefill")
    return {
        "running": role.running,
        "budget": eng.max_tokens_per_iteration,
        "fraction": mem.memory_fraction,
        "kv": kv,
        "kv_unsupported": prec.kv not in SIXTEEN_BIT and kv is None,
        "chunked": eng.chunked_prefill,
        "chunked_default": bool(default_chunked.value) if default_chunked is not None else None,
        "context": s.workload.input_tokens + s.workload.output_tokens,
    }


def _quantization_note(est, out: Launch) -> str | None:
    """Online FP8 where the checkpoint is 16-bit and the estimate stores FP8 weights; otherwise the checkpoint
    decides (a note names the recipe or dtype the estimate assumed)."""
    s = est.scenario
    prec, native = s.precision, (s.model.native_dtype or "bf16")
    if prec.recipe == out.native_recipe and prec.recipe:
        return None  # the published checkpoint: the engine reads it as is
    if prec.recipe:
        out.notes.append(f"--emit: the estimate assumed a {prec.recipe} checkpoint; point the command at one (the "
                         "engine reads its quantization from the checkpoint)")
        return None
    if prec.weights == "fp8" and native in SIXTEEN_BIT:
        return "fp8"
    if prec.weights != native and not (prec.weights in SIXTEEN_BIT and native in SIXTEEN_BIT):
        out.notes.append(f"--emit: the estimate stores weights as {prec.weights}; use a checkpoint quantized to it")
    return None


# --------------------------------------------------------------------------- vLLM


def _vllm(est, profile, model: str, out: Launch) -> list[str]:
    t = profile.flags
    s = est.scenario
    lines: list[str] = []
    quant = _quantization_note(est, out)
    for role in _roles(est):
        cmd = _Command(out, t["launch"].replace("{model}", shlex.quote(model)))
        lim = _limits(est, role, profile)
        cmd.add(_flag(t, "tp"), role.tp)
        if role.pp > 1:
            cmd.add(_flag(t, "pp"), role.pp)
        if role.dp > 1:
            cmd.add(_flag(t, "dp"), role.dp)
        if role.ep > 1:
            cmd.add(_flag(t, "ep"))
            if role.ep != role.tp * role.dp:
                out.notes.append(f"--emit vllm: vLLM's expert parallelism spans tp x dp = {role.tp * role.dp} GPUs; the "
                                 f"estimate assumed ep={role.ep}")
        if lim["running"]:
            cmd.add(_flag(t, "max_running_requests"), lim["running"])
        if lim["budget"]:
            cmd.add(_flag(t, "max_tokens_per_iteration"), lim["budget"])
        cmd.add(_flag(t, "memory_fraction"), f"{lim['fraction']:g}")
        if lim["kv"]:
            cmd.add(_flag(t, "kv_dtype"), lim["kv"])
        if quant:
            cmd.add(_flag(t, "quantization"), quant)
        cmd.add(_flag(t, "max_model_len"), lim["context"])
        if lim["chunked_default"] is not None and lim["chunked"] != lim["chunked_default"]:
            entry = t["chunked_prefill"]
            cmd.add(entry["flag"] if lim["chunked"] else entry["negation"])
        spec = s.speculative
        if spec is not None and role.name != "prefill":
            entry = t["speculative"]
            keys = entry["keys"]
            method = {"mtp": "mtp", "eagle": "eagle", "model": "draft_model"}[spec.draft]
            config = {keys["method"]: method, keys["num_draft_tokens"]: spec.draft_tokens}
            out.keys += [keys["method"], keys["num_draft_tokens"]]
            if spec.draft == "model":
                config[keys["draft_model"]] = _draft_name(spec.draft_model)
                out.keys.append(keys["draft_model"])
            elif spec.draft == "eagle":
                config[keys["draft_model"]] = "<eagle-head-checkpoint>"
                out.keys.append(keys["draft_model"])
                out.notes.append("--emit: an EAGLE head is a separate checkpoint; replace <eagle-head-checkpoint>")
            cmd.add(entry["flag"], json.dumps(config))
        if s.workload.prefix_hit:
            cmd.add(t["prefix_caching"]["flag"])
        if role.name:
            entry = t["disaggregation"]
            keys = entry["keys"]
            config = {keys["connector"]: "NixlConnector", keys["role"]: entry["roles"][role.name]}
            out.keys += [keys["connector"], keys["role"]]
            cmd.add(entry["flag"], json.dumps(config))
        lines += _role_lines(role, cmd.text())
    if s.disaggregation is not None:
        lines.append("# route requests to the prefill instances first, then to the decode instances (vLLM's "
                     "disaggregated proxy, llm-d or Dynamo)")
    return lines


def _role_lines(role: Role, command: str) -> list[str]:
    if not role.name:
        return [command]
    many = f"{role.instances} instances" if role.instances > 1 else "1 instance"
    return [f"# {role.name}: {many}", command]


def _draft_name(model) -> str:
    return model.id if model is not None else "<draft-model>"


# --------------------------------------------------------------------------- SGLang


def _sglang(est, profile, model: str, out: Launch) -> list[str]:
    t = profile.flags
    s = est.scenario
    lines: list[str] = []
    quant = _quantization_note(est, out)
    for role in _roles(est):
        cmd = _Command(out, t["launch"].replace("{model}", shlex.quote(model)))
        lim = _limits(est, role, profile)
        if role.ep > role.tp:  # attention data parallelism: one server spans the expert-parallel group
            group = role.ep
            cmd.add(_flag(t, "tp"), group)
            cmd.add(_flag(t, "attention_dp"), group // role.tp)
            cmd.add(_flag(t, "ep"), role.ep)
            if role.dp > group // role.tp:
                cmd.add(_flag(t, "dp"), role.dp * role.tp // group)
        else:
            cmd.add(_flag(t, "tp"), role.tp)
            if role.pp > 1:
                cmd.add(_flag(t, "pp"), role.pp)
            if role.dp > 1:
                cmd.add(_flag(t, "dp"), role.dp)
            if role.ep > 1:
                cmd.add(_flag(t, "ep"), role.ep)
        if lim["running"]:
            cmd.add(_flag(t, "max_running_requests"), lim["running"])
        if not lim["chunked"]:
            cmd.add(t["chunked_prefill"]["flag"], -1)  # -1 turns chunked prefill off
        elif lim["budget"]:
            cmd.add(_flag(t, "max_tokens_per_iteration"), lim["budget"])
        cmd.add(_flag(t, "memory_fraction"), f"{lim['fraction']:g}")
        if lim["kv"]:
            cmd.add(_flag(t, "kv_dtype"), lim["kv"])
        if quant:
            cmd.add(_flag(t, "quantization"), quant)
        spec = s.speculative
        if spec is not None and role.name != "prefill":
            entry = t["speculative"]
            algorithm = {"mtp": "NEXTN", "eagle": "EAGLE", "model": "STANDALONE"}[spec.draft]
            cmd.add(entry["flag"], algorithm)
            cmd.add(entry["num_steps"], spec.draft_tokens)
            cmd.add(entry["topk"], 1)
            cmd.add(entry["num_draft_tokens"], spec.draft_tokens + 1)
            if spec.draft == "model":
                cmd.add(entry["draft_model"], _draft_name(spec.draft_model))
            elif spec.draft == "eagle":
                cmd.add(entry["draft_model"], "<eagle-head-checkpoint>")
                out.notes.append("--emit: an EAGLE head is a separate checkpoint; replace <eagle-head-checkpoint>")
        # SGLang's radix (prefix) cache is on by default: a hit rate needs no flag
        if role.name:
            entry = t["disaggregation"]
            cmd.add(entry["flag"], entry["roles"][role.name])
            backend = entry["transfer_backend"]
            cmd.add(backend["flag"], backend["default"])
        lines += _role_lines(role, cmd.text())
    if s.disaggregation is not None:
        lines.append("# then: " + t["disaggregation"]["router"])
    return lines


# --------------------------------------------------------------------------- TensorRT-LLM


def _yaml_lines(config: dict[str, Any], indent: int = 0) -> list[str]:
    out = []
    for key, value in config.items():
        if isinstance(value, dict):
            out.append(" " * indent + f"{key}:")
            out += _yaml_lines(value, indent + 2)
        else:
            text = json.dumps(value) if isinstance(value, (bool, str)) else str(value)
            if isinstance(value, str) and value.replace("_", "").isalnum():
                text = value
            out.append(" " * indent + f"{key}: {text}")
    return out


def _nested(keys: dict[str, Any]) -> dict[str, Any]:
    """{"a.b": 1} -> {"a": {"b": 1}}."""
    out: dict[str, Any] = {}
    for dotted, value in keys.items():
        node = out
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _trtllm(est, profile, model: str, out: Launch) -> list[str]:
    t = profile.flags
    s = est.scenario
    allowed = set(t["config_file"]["keys"])
    lines: list[str] = []
    _quantization_note(est, out)
    roles = _roles(est)
    for role in roles:
        lim = _limits(est, role, profile)
        keys: dict[str, Any] = {}
        if lim["running"]:
            keys["max_batch_size"] = lim["running"]
        if lim["budget"]:
            keys["max_num_tokens"] = lim["budget"]
        if lim["chunked"]:
            keys["enable_chunked_prefill"] = True
        if role.ep > role.tp:
            keys[_flag(t, "attention_dp")] = True
        keys[t["memory_fraction"]["yaml_key"]] = round(lim["fraction"], 6)
        if lim["kv"]:
            keys[_flag(t, "kv_dtype")] = lim["kv"]
        if s.workload.prefix_hit:
            keys[_flag(t, "prefix_caching")] = True
        spec = s.speculative
        if spec is not None and role.name != "prefill":
            names = t["speculative"]["keys"]
            base = _flag(t, "speculative")
            if spec.draft == "mtp":
                keys[f"{base}.{names['method']}"] = "MTP"
                keys[f"{base}.{names['mtp_layers']}"] = spec.draft_tokens
            else:
                keys[f"{base}.{names['method']}"] = "Draft_Target" if spec.draft == "model" else "Eagle3"
                keys[f"{base}.{names['num_draft_tokens']}"] = spec.draft_tokens
                keys[f"{base}.{names['draft_model']}"] = (_draft_name(spec.draft_model) if spec.draft == "model"
                                                         else "<eagle-head-checkpoint>")
                if spec.draft == "eagle":
                    out.notes.append("--emit: an EAGLE head is a separate checkpoint; replace <eagle-head-checkpoint>")
        if role.name:
            keys[_flag(t, "disaggregation")] = "DEFAULT"
            if role.name == "prefill":
                keys["disable_overlap_scheduler"] = True
        unknown = [k for k in keys if k not in allowed]
        if unknown:  # the profile's key list is the contract
            raise InputError(f"--emit trtllm: keys {', '.join(unknown)} are not in specs/engines/trtllm.yaml "
                             "flags.config_file.keys")
        out.keys += list(keys)
        file = {"": "extra-llm-api-options.yaml", "prefill": "ctx.yaml", "decode": "gen.yaml"}[role.name]
        cmd = _Command(out, t["launch"].replace("{model}", shlex.quote(model)))
        cmd.add(_flag(t, "tp"), role.tp)
        if role.pp > 1:
            cmd.add(_flag(t, "pp"), role.pp)
        if role.ep > 1:
            cmd.add(_flag(t, "ep"), role.ep)
        cmd.add(t["config_file"]["flag"], file)
        if role.dp > 1 and role.ep <= role.tp:
            out.notes.append(f"--emit trtllm: TensorRT-LLM has no replica flag; run {role.dp} of these servers behind a "
                             "router for the estimate's data parallelism")
        lines += ([f"# {role.name}: {role.instances} instance(s)"] if role.name else [])
        lines += [f"cat > {file} <<'EOF'"] + _yaml_lines(_nested(keys)) + ["EOF", cmd.text()]
    if s.disaggregation is not None:
        d = s.disaggregation
        orchestrator = t["disaggregation"]["orchestrator"]
        keys = {"hostname": "localhost", "port": 8000,
                "context_servers.num_instances": d.prefill_instances,
                "generation_servers.num_instances": d.decode_instances}
        out.keys += list(keys)
        lines += ["cat > disagg_config.yaml <<'EOF'"] + _yaml_lines(_nested(keys)) + [
            "EOF", "# list each server's urls under context_servers/generation_servers, then:", orchestrator]
    return lines


PROSE = ("source", "note", "model_note", "deprecated", "description", "values", "methods", "rule", "version")


def table_names(table: dict[str, Any]) -> set[str]:
    """Every flag and config key a profile's ``flags:`` table names (for the check that --emit invents none): the
    words of its entries, leaving out sources, notes, examples and lists of accepted values."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in PROSE or str(key).startswith("example"):
                    continue
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            for word in node.replace(",", " ").replace(":", " ").replace("(", " ").replace(")", " ").split():
                names.add(word)
                names.add(word.strip("'\"{}"))

    walk(table)
    return names


def model_name(entry, scenario) -> tuple[str, bool]:
    """The checkpoint to launch: the catalog's Hugging Face id, else the model's id (a placeholder)."""
    hf = getattr(entry, "hf_id", None) if entry is not None else None
    if hf:
        return hf, False
    return scenario.model.id, True
