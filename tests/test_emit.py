"""``--emit vllm|sglang|trtllm``: launch commands from the engine profiles' flag tables (issue 12)."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from cli_helpers import run, run_json
from inferwall.catalog import load_catalog
from inferwall.catalog.profiles import load_engine
from inferwall.core import estimate
from inferwall.emit import ENGINES, launch, model_name, table_names
from inferwall.inputs import Options, build

SCENARIOS = {
    "tp8": dict(model="llama-3.1-70b", gpus="8", batch="64"),
    "replicas": dict(model="llama-3.1-8b", gpus="4", tp="1", batch="32"),
    "pipeline": dict(model="llama-3.1-70b", tp="2", pp="2", batch="16"),
    "fp8-kv": dict(model="llama-3.1-70b", gpus="8", precision="fp8", batch="32"),
    "chunked-off": dict(model="llama-3.1-8b", chunked_prefill="off", batch="8"),
    "expert-tp": dict(model="mixtral-8x7b", gpus="8", ep="8", batch="32"),
    "attention-dp": dict(model="deepseek-v3", gpu="h200", tp="1", dp="8", ep="8", batch="64"),
    "mtp": dict(model="deepseek-v3", gpu="h200", gpus="8", batch="32", speculative="2", acceptance="0.8"),
    "eagle": dict(model="llama-3.1-8b", batch="8", speculative="3", acceptance="0.7"),
    "draft": dict(model="llama-3.1-70b", gpus="8", batch="8", speculative="3", acceptance="0.7",
                  draft_model="llama-3.2-1b"),
    "prefix": dict(model="llama-3.1-8b", batch="16", prefix_hit="0.5"),
    "disaggregated": dict(model="llama-3.1-70b", gpus="16", disaggregate="1P1D", batch="64"),
    "disaggregated-mtp": dict(model="deepseek-v3", gpu="h200", prefill_gpus="16:tp8", decode_gpus="8:tp8",
                              batch="32", speculative="1", acceptance="0.8"),
}


def _launch(engine: str, **flags):
    cat = load_catalog()
    resolved = build(Options(engine=engine, **flags), cat)
    est = estimate(resolved.scenario, resolved.compute_explicit)
    name, placeholder = model_name(resolved.model_entry, est.scenario)
    return est, launch(est, load_engine(engine), name, placeholder, resolved.model_entry.native_quant)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(SCENARIOS))
def test_every_emitted_flag_exists_in_the_profiles_flag_table(engine, case):
    est, result = _launch(engine, **SCENARIOS[case])
    names = table_names(load_engine(engine).flags)
    assert result.flags, "a launch command sets at least the tensor-parallel size"
    for flag in result.flags + result.keys:
        assert flag in names, f"{engine}: {flag} is not in specs/engines/{engine}.yaml flags"
    # every flag that appears in the text was recorded
    for word in re.findall(r"(?<![\w-])--[a-z][a-z_-]*", result.text):
        assert word in names, f"{engine}: {word} in the text is not in the profile's table"


def test_the_flag_table_check_can_fail():
    names = table_names(load_engine("vllm").flags)
    assert "--tensor-parallel-size" in names and "--max-num-seqs" in names and "kv_role" in names
    assert "--made-up-flag" not in names and "--tensor-parallel" not in names
    assert not any("arg_utils.py" in n for n in names)  # sources are not flags
    trt = table_names(load_engine("trtllm").flags)
    assert "kv_cache_config.free_gpu_memory_fraction" in trt and "max_batch_size" in trt
    assert "kv_cache_config.made_up" not in trt


def _values(text: str) -> dict[str, str]:
    """flag -> value (or "" for a switch) of the first command in ``text``."""
    words = shlex.split(" ".join(line for line in text.splitlines() if not line.startswith("#")).replace("\\\n", " "))
    out: dict[str, str] = {}
    for i, word in enumerate(words):
        if word.startswith("--"):
            nxt = words[i + 1] if i + 1 < len(words) else ""
            out.setdefault(word, "" if nxt.startswith("--") or not nxt else nxt)
    return out


def test_vllm_command_carries_the_layout_and_limits_the_estimate_assumed():
    est, result = _launch("vllm", model="llama-3.1-70b", gpus="8", batch="64", precision="fp8")
    v = _values(result.text)
    assert v["--tensor-parallel-size"] == str(est.scenario.parallelism.tp) == "8"
    assert v["--max-num-seqs"] == str(est.serving.running) == "64"
    assert v["--max-num-batched-tokens"] == str(est.scenario.engine.max_tokens_per_iteration)
    assert float(v["--gpu-memory-utilization"]) == est.scenario.memory.memory_fraction
    assert v["--kv-cache-dtype"] == "fp8" and v["--quantization"] == "fp8"
    assert v["--max-model-len"] == str(1024 + 256)
    assert result.text.startswith("# inferwall: llama-3.1-70b")
    assert "vllm serve meta-llama/Llama-3.1-70B" in result.text
    assert "vLLM 0.34.0 flags, read from vllm/engine/arg_utils.py@v0.34.0" in result.text


def test_speculative_settings_are_emitted_per_engine():
    _, v = _launch("vllm", **SCENARIOS["mtp"])
    config = json.loads(_values(v.text)["--speculative-config"])
    assert config == {"method": "mtp", "num_speculative_tokens": 2}
    _, s = _launch("sglang", **SCENARIOS["mtp"])
    sv = _values(s.text)
    assert (sv["--speculative-algorithm"], sv["--speculative-num-steps"], sv["--speculative-num-draft-tokens"]) == (
        "NEXTN", "2", "3")
    _, t = _launch("trtllm", **SCENARIOS["mtp"])
    assert "decoding_type: MTP" in t.text and "num_nextn_predict_layers: 2" in t.text
    _, d = _launch("vllm", **SCENARIOS["draft"])
    assert json.loads(_values(d.text)["--speculative-config"]) == {
        "method": "draft_model", "num_speculative_tokens": 3, "model": "llama-3.2-1b"}


def test_disaggregated_roles_are_emitted():
    est, v = _launch("vllm", **SCENARIOS["disaggregated"])
    roles = [json.loads(m)["kv_role"] for m in re.findall(r"--kv-transfer-config '([^']*)'", v.text)]
    assert roles == ["kv_producer", "kv_consumer"]
    _, s = _launch("sglang", **SCENARIOS["disaggregated"])
    assert re.findall(r"--disaggregation-mode (\w+)", s.text) == ["prefill", "decode"]
    assert "sglang_router" in s.text
    _, t = _launch("trtllm", **SCENARIOS["disaggregated-mtp"])
    assert "cat > ctx.yaml" in t.text and "cat > gen.yaml" in t.text and "trtllm-serve disaggregated" in t.text
    assert "context_servers:\n  num_instances: 2" in t.text and "generation_servers:\n  num_instances: 1" in t.text
    # speculation runs in the decode role only
    ctx, gen = t.text.split("cat > gen.yaml")
    assert "speculative_config" not in ctx and "speculative_config" in gen


def test_attention_data_parallelism_is_one_server_per_expert_group():
    _, s = _launch("sglang", **SCENARIOS["attention-dp"])
    v = _values(s.text)
    assert (v["--tp-size"], v["--attn-dp-size"], v["--ep-size"]) == ("8", "8", "8")
    _, t = _launch("trtllm", **SCENARIOS["attention-dp"])
    assert "enable_attention_dp: true" in t.text and "--ep_size 8" in t.text


def test_cli_estimate_emit_reestimates_with_the_engine_it_emits_for(capsys):
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--batch", "32", "--emit", "sglang")
    assert code == 0 and out.startswith("# inferwall:")
    r, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--batch", "32", "--engine", "sglang")
    assert f"TPOT {r['latency']['tpot_s'] * 1e3:.4g} ms" in out
    assert "--mem-fraction-static" in out
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--engine", "vllm", "--emit", "trtllm")
    assert code == 0 and "estimated with the trtllm profile, not vllm" in err


def test_plan_emit_launches_the_cheapest_configuration(capsys):
    plan = ["plan", "-m", "llama-3.1-70b", "--output-tokens-per-s", "5000", "--max-tpot", "50ms", "--gpus-from", "h100"]
    code, out, _ = run(capsys, *plan, "-f", "json")
    best = json.loads(out)[0]
    code, out, err = run(capsys, *plan, "--emit", "vllm")
    assert code == 0
    v = _values(out)
    assert v["--tensor-parallel-size"] == str(best["tp"])
    assert v["--max-num-seqs"] == str(best["batch"])


@pytest.mark.parametrize("argv, needle", [
    (["estimate", "-m", "llama-3.1-8b", "--emit", "tgi"], "valid: vllm, sglang, trtllm"),
    (["estimate", "-m", "llama-3.1-8b", "--emit", "vllm", "-f", "json"], "does not combine"),
    (["plan", "-m", "llama-3.1-8b", "--users", "10", "--emit", "llamacpp"], "valid: vllm, sglang, trtllm"),
])
def test_bad_emit_input_is_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err
