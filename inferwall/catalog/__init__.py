"""The catalog layer: shipped YAML specs plus user files, validated, with names and aliases resolved."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.core import limits as L
from inferwall.core.types import MLA, Accelerator, ModelArch, MoE
from inferwall.errors import InputError

from .validate import Fields
from .yamlio import catalog_shape, load_builtin, load_document

DTYPES_IN_CATALOG = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp6", "fp4", "int4")
CATALOG_ENV = "INFERWALL_CATALOG"
# The chip generations specs/gpus.yaml's header lists (they select kernel efficiencies; unknown ones fall back to
# generic). The test suite holds every built-in entry to this list; user files may name others.
ARCHITECTURES = ("volta", "turing", "ampere", "ada", "hopper", "blackwell", "blackwell-geforce", "cdna2", "cdna3",
                 "cdna4", "rdna3", "gaudi", "tpu", "neuron", "apple", "xe2", "cpu")
# What joins accelerators inside one scale-up domain (scale_up.kind). "none": a single device (domain 1).
SCALE_UP_KINDS = ("nvlink", "pcie", "xgmi", "ici", "neuronlink", "gaudi-roce", "none")


def specs_dir() -> str:
    """Shipped specs: inside the installed package, or the repository's ``specs/`` in a checkout."""
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # os.path: pathlib costs start-up
    candidates = (os.path.join(here, "specs"), os.path.join(os.path.dirname(here), "specs"))
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, "gpus.yaml")):
            return candidate
    raise InputError(f"built-in catalog not found (looked in {candidates[0]} and {candidates[1]})")


@dataclass(frozen=True)
class GpuEntry:
    accelerator: Accelerator
    aliases: tuple[str, ...]
    kind: str
    source_file: str
    price_source: str | None
    price_verified: bool | None
    sources: tuple[str, ...]
    notes: str = ""
    measured_matmul: dict[str, float] = field(default_factory=dict)
    scale_up_kind: str = ""  # one of SCALE_UP_KINDS; "" when a user file does not say
    compute_estimated: bool = False  # peak FLOP/s derived by us (cores x clock x ops), not published by the vendor
    compute_derivation: str = ""  # the arithmetic behind an estimated peak, shown wherever the number is used
    price_provider: str | None = None
    price_basis: str | None = None  # on-demand, serverless, capacity-block, spot
    price_as_of: str | None = None
    price_url: str | None = None  # where the price was read (price.source)

    def price_label(self, status: bool = True) -> str:
        """'Lambda on-demand, as of <date>, verified' (or 'UNVERIFIED placeholder'); '' without a catalog price."""
        if self.accelerator.price_usd_per_hour is None:
            return ""
        parts = [" ".join(x for x in (self.price_provider, self.price_basis) if x)]
        if self.price_as_of:
            parts.append(f"as of {self.price_as_of}")
        if status:
            parts.append("verified" if self.price_verified else "UNVERIFIED placeholder")
        return ", ".join(p for p in parts if p)

    def estimate_note(self) -> str:
        """The note every result computed from an estimated peak carries; '' for published peaks."""
        if not self.compute_estimated:
            return ""
        return (f"{self.accelerator.id}: peak FLOP/s is an estimate, not a vendor figure "
                f"({self.compute_derivation or 'see the catalog entry'})")


@dataclass(frozen=True)
class ModelEntry:
    model: ModelArch
    aliases: tuple[str, ...]
    source_file: str
    hf_id: str | None
    status: str
    params_total: float | None
    params_active: float | None
    params_derived_total: float | None
    params_derived_active: float | None
    max_context: int | None
    sources: tuple[str, ...]
    notes: str = ""
    mtp_layers: int = 0  # multi-token-prediction (draft) layers shipped in the checkpoint, not in num_layers
    native_quant: str | None = None  # the specs/quant.yaml recipe the published checkpoint follows
    params_published_total: float | None = None  # the source's precise count of the weights the core counts


# ----------------------------------------------------------------- parsing entries


def _scale_up_kind(up: Fields | None) -> str:
    """The scale-up fabric: ``scale_up.kind``, else read from its name (a PCIe-only part says so)."""
    if up is None:
        return ""
    kind = up.str("kind", "") or ""
    if kind:
        return kind
    name = str(up.data.get("name") or "").lower()
    return "pcie" if "pcie" in name and "nvlink" not in name else ""


def parse_gpu(data: Any, source_file: str, index: int) -> GpuEntry:
    f = Fields(data, f"{source_file}: accelerators[{index}]")
    gid = f.str("id")
    if not gid:
        raise f.fail("id", "must not be empty")
    f.where = f"{source_file}: {gid}"
    mem = f.sub("memory", required=True)
    capacity = mem.quantity("capacity", "bytes", None, limit=L.MEMORY)
    if capacity is None:
        raise mem.fail("capacity", "missing (e.g. 80GiB)")
    bandwidth = mem.quantity("bandwidth", "bandwidth", limit=L.BANDWIDTH)
    peak: dict[str, float] = {}
    compute = f.sub("compute")
    if compute is not None:
        for key in compute.data:
            if key not in DTYPES_IN_CATALOG:
                raise compute.fail(key, f"unknown dtype; valid: {', '.join(DTYPES_IN_CATALOG)}")
            value = compute.quantity(key, "flops", None, limit=L.FLOPS)
            if value is not None:
                peak[key] = value
    measured: dict[str, float] = {}
    mm = f.sub("measured_matmul")
    if mm is not None:
        for key in mm.data:
            if key in DTYPES_IN_CATALOG:
                value = mm.quantity(key, "flops", None, limit=L.FLOPS)
                if value is not None:
                    measured[key] = value
    estimated = f.bool("compute_estimated", False)
    derivation = f.str("compute_derivation", "") or ""
    if estimated and not derivation:
        raise f.fail("compute_derivation", "missing: an estimated peak (compute_estimated: true) must show its "
                                           "arithmetic, e.g. \"40 cores x 128 ALUs x 2 x 1.398 GHz\"")
    if estimated and not peak:
        raise f.fail("compute", "compute_estimated is true but no peak is given")
    up = f.sub("scale_up")
    kind = (up.str("kind", "") or "") if up else ""
    if kind and kind not in SCALE_UP_KINDS:
        raise up.fail("kind", f"unknown kind {kind!r}; valid: {', '.join(SCALE_UP_KINDS)}")
    out = f.sub("scale_out")
    price = f.sub("price")
    usd = price.number("usd_per_hour", minimum=0, limit=L.PRICE) if price else None
    verified = price.data.get("verified") if price else None
    if price is not None and verified is not None and not isinstance(verified, bool):
        raise price.fail("verified", f"must be true or false, got {verified!r}")
    acc = Accelerator(
        id=gid,
        name=f.str("name", gid) or gid,
        vendor=f.str("vendor", "") or "",
        memory_bytes=capacity,
        bandwidth_bytes_per_s=bandwidth,
        peak_flops=peak,
        scale_up_bytes_per_s=(up.quantity("bandwidth", "bandwidth", None, limit=L.BANDWIDTH) or 0.0) if up else 0.0,
        scale_up_domain=(up.int("domain", 1, minimum=1, limit=L.SCALE_UP_DOMAIN) or 1) if up else 1,
        scale_out_bytes_per_s=(out.quantity("bandwidth", "bandwidth", None, limit=L.BANDWIDTH) or 12.5e9) if out else 12.5e9,
        tdp_w=f.number("tdp_w", None, minimum=0, limit=L.TDP),
        price_usd_per_hour=usd,
        release_year=f.int("release_year", None, minimum=1900, limit=L.RELEASE_YEAR),
        architecture=f.str("architecture", "") or "",
        scale_up_kind=_scale_up_kind(up),
    )
    price_source = None
    if price:
        price_source = " ".join(str(x) for x in (price.data.get("provider"), price.data.get("basis"),
                                                 price.data.get("as_of")) if x)
    return GpuEntry(
        accelerator=acc, aliases=tuple(f.list_of_str("aliases")), kind=f.str("kind", "gpu") or "gpu",
        source_file=source_file, price_source=price_source, price_verified=verified,
        sources=tuple(f.list_of_str("sources")), notes=str(f.data.get("notes") or ""), measured_matmul=measured,
        scale_up_kind=kind, compute_estimated=estimated, compute_derivation=derivation,
        price_provider=_price_text(price, "provider"), price_basis=_price_text(price, "basis"),
        price_as_of=_price_text(price, "as_of"), price_url=_price_text(price, "source"),
    )


def _price_text(price: Fields | None, key: str) -> str | None:
    value = price.data.get(key) if price else None
    return None if value is None else str(value)


def _window(att: Fields | None, layers: int) -> tuple[int, int, str]:
    if att is None:
        return 0, 0, "sliding"
    window = att.int("window", 0, minimum=0, limit=L.WINDOW) or 0
    if not window:
        return 0, 0, "sliding"
    count = att.int("window_layers", layers, minimum=0, limit=L.LAYERS)
    if count > layers:
        raise att.fail("window_layers", f"must be <= num_layers ({layers}), got {count}")
    kind = att.str("window_kind", "sliding") or "sliding"
    if kind not in ("sliding", "chunked"):
        raise att.fail("window_kind", f"must be sliding or chunked, got {kind!r}")
    return window, count, kind


def parse_model(data: Any, source_file: str, index: int) -> ModelEntry:
    f = Fields(data, f"{source_file}: models[{index}]")
    mid = f.str("id")
    if not mid:
        raise f.fail("id", "must not be empty")
    f.where = f"{source_file}: {mid}"
    total = f.number("params_total", None, minimum=1, limit=L.PARAMS)
    active = f.number("params_active", None, minimum=1, limit=L.PARAMS)
    hidden = f.data.get("hidden_size")
    att = f.sub("attention")
    native = f.str("native_dtype", "bf16") or "bf16"
    common = dict(aliases=tuple(f.list_of_str("aliases")), source_file=source_file, hf_id=f.str("hf_id", None),
                  status=f.str("status", "released") or "released", params_total=total, params_active=active,
                  params_derived_total=f.number("params_derived_total", None, limit=L.PARAMS),
                  params_derived_active=f.number("params_derived_active", None, limit=L.PARAMS),
                  max_context=f.int("max_context", None, minimum=1, limit=L.WINDOW),
                  sources=tuple(f.list_of_str("sources")),
                  notes=str(f.data.get("notes") or ""), mtp_layers=f.int("mtp_layers", 0, minimum=0, limit=L.LAYERS) or 0,
                  native_quant=f.str("native_quant", None),
                  params_published_total=f.number("params_published_total", None, minimum=1, limit=L.PARAMS))
    if hidden is None:
        # Known only by its parameter counts (e.g. the rumored GPT-4): a bare model.
        if total is None:
            raise f.fail("params_total", "missing (a model without hidden_size needs params_total)")
        model = ModelArch(id=mid, name=f.str("name", mid) or mid, params=total, active_params=active or total,
                          native_dtype=native)
        return ModelEntry(model=model, **common)
    layers = f.int("num_layers", minimum=1, limit=L.LAYERS)
    heads = f.int("num_attention_heads", minimum=1, limit=L.HEADS)
    ffn_type = f.str("ffn_type", "gated")
    if ffn_type not in ("gated", "plain"):
        raise f.fail("ffn_type", f"must be gated or plain, got {ffn_type!r}")
    moe = None
    mf = f.sub("moe")
    if mf is not None:
        moe = MoE(
            num_experts=mf.int("num_experts", minimum=1, limit=L.EXPERTS),
            experts_per_token=mf.int("experts_per_token", minimum=1, limit=L.EXPERTS),
            expert_intermediate_size=mf.int("expert_intermediate_size", minimum=1, limit=L.FFN_WIDTH),
            shared_experts=mf.int("shared_experts", 0, limit=L.EXPERTS) or 0,
            shared_expert_intermediate_size=mf.int("shared_expert_intermediate_size", 0, limit=L.FFN_WIDTH) or 0,
            moe_layers=mf.int("moe_layers", layers, minimum=0, limit=L.LAYERS) or layers,
        )
    mla = None
    att_type = (att.str("type", "mha") if att else "mha") or "mha"
    if att_type not in ("mha", "gqa", "mqa", "mla"):
        raise att.fail("type", f"must be mha, gqa, mqa or mla, got {att_type!r}")
    if att_type == "mla":
        mla = MLA(
            kv_lora_rank=att.int("kv_lora_rank", minimum=1, limit=L.HIDDEN),
            qk_rope_head_dim=att.int("qk_rope_head_dim", minimum=1, limit=L.HEAD_DIM),
            qk_nope_head_dim=att.int("qk_nope_head_dim", minimum=1, limit=L.HEAD_DIM),
            v_head_dim=att.int("v_head_dim", minimum=1, limit=L.HEAD_DIM),
            q_lora_rank=att.int("q_lora_rank", 0, limit=L.HIDDEN) or 0,
        )
    window, window_layers, window_kind = _window(att, layers)
    encoder = f.bool("encoder", False)
    hidden_size = f.int("hidden_size", minimum=1, limit=L.HIDDEN)
    model = ModelArch(
        id=mid, name=f.str("name", mid) or mid, num_layers=layers, hidden_size=hidden_size,
        num_heads=heads, num_kv_heads=f.int("num_kv_heads", heads, minimum=1, limit=L.HEADS) or heads,
        head_dim=(f.int("head_dim", minimum=1, limit=L.HEAD_DIM) if f.data.get("head_dim") is not None
                  else hidden_size // heads),
        intermediate_size=f.int("intermediate_size", 0, limit=L.FFN_WIDTH) or 0,
        ffn_matrices=3 if ffn_type == "gated" else 2,
        vocab_size=f.int("vocab_size", minimum=1, limit=L.VOCAB),
        tie_embeddings=bool(f.data.get("tie_word_embeddings") or False),
        encoder=encoder, window=window, window_layers=window_layers, window_kind=window_kind, moe=moe, mla=mla,
        native_dtype=native, mtp_layers=common["mtp_layers"], max_context=common["max_context"] or 0,
    )
    return ModelEntry(model=model, **common)


# ----------------------------------------------------------------- the catalog


def _norm(name: str) -> str:
    return name.strip().lower()


class Catalog:
    """Accelerators and models by id and alias. Later files override earlier ones by id.

    User files are parsed and validated when added. Built-in entries (validated by the test suite) are
    parsed when first looked up, so a one-liner pays for the two entries it uses, not all of them.
    """

    _KINDS = {"accelerators": parse_gpu, "models": parse_model}

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Any]] = {"accelerators": {}, "models": {}}  # id -> entry or raw
        self._pending: dict[str, dict[str, tuple[Any, str, int]]] = {"accelerators": {}, "models": {}}
        self._gpu_names: dict[str, str] = {}
        self._model_names: dict[str, str] = {}
        self._order: dict[str, dict[str, None]] = {"accelerators": {}, "models": {}}  # ids as first added
        self.notes: list[str] = []

    def add_file(self, path: str, builtin: bool = False) -> None:
        data = load_builtin(str(path), valid=catalog_shape) if builtin else load_document(path)
        label = f"specs/{os.path.basename(path)}" if builtin else str(path)
        if not isinstance(data, dict):
            raise InputError(f"{label}: expected a mapping with 'accelerators' and/or 'models'")
        unknown = set(data) - {"schema_version", "accelerators", "models", "compiled"}
        if unknown:
            raise InputError(f"{label}: unknown top-level key {sorted(unknown)[0]!r}; valid: accelerators, models, schema_version")
        if "accelerators" not in data and "models" not in data:
            raise InputError(f"{label}: has neither 'accelerators' nor 'models'")
        for key, names in (("accelerators", self._gpu_names), ("models", self._model_names)):
            items = data.get(key) or []
            if not isinstance(items, list):
                raise InputError(f"{label}: {key}: expected a list")
            seen: set[str] = set()
            for i, raw in enumerate(items):
                if builtin:
                    eid, aliases = str(raw["id"]), tuple(raw.get("aliases") or ())
                    self._pending[key][eid] = (raw, label, i)
                    self._entries[key].pop(eid, None)
                else:
                    entry = self._KINDS[key](raw, label, i)
                    eid, aliases = (entry.accelerator if key == "accelerators" else entry.model).id, entry.aliases
                    if eid in seen:
                        raise InputError(f"{label}: {eid}: duplicate id")
                    if eid in self._entries[key] or eid in self._pending[key]:
                        previous = self._entry(key, eid)
                        self.notes.append(f"note: {label}: {eid} overrides the entry from {previous.source_file}")
                    self._pending[key].pop(eid, None)
                    self._entries[key][eid] = entry
                seen.add(eid)
                self._order[key].setdefault(eid)
                names[_norm(eid)] = eid
                for alias in aliases:
                    names[_norm(alias)] = eid

    def _entry(self, key: str, eid: str) -> Any:
        entry = self._entries[key].get(eid)
        if entry is None:
            raw, label, index = self._pending[key].pop(eid)
            entry = self._entries[key][eid] = self._KINDS[key](raw, label, index)
        return entry

    def _all(self, key: str) -> dict[str, Any]:
        """Every entry, in the order the files list them (whatever was looked up first in a long-lived process)."""
        for eid in list(self._pending[key]):
            self._entry(key, eid)
        entries = self._entries[key]
        return {eid: entries[eid] for eid in self._order[key] if eid in entries}

    @property
    def gpus(self) -> dict[str, GpuEntry]:
        return self._all("accelerators")

    @property
    def models(self) -> dict[str, ModelEntry]:
        return self._all("models")

    # -- lookups

    def _resolve(self, name: str, names: dict[str, str], key: str, what: str, flag: str) -> Any:
        norm = _norm(name)
        if norm in names:
            return self._entry(key, names[norm])
        from inferwall.suggest import did_you_mean  # only on the error path

        by_entry: dict[str, list[str]] = {}
        for alias, entry_id in names.items():
            by_entry.setdefault(entry_id, []).append(alias)
        hint = did_you_mean(norm, by_entry)
        raise InputError(f"unknown {what} {name!r}{hint} (see 'inferwall {flag}' for the list)")

    def gpu(self, name: str) -> GpuEntry:
        return self._resolve(name, self._gpu_names, "accelerators", "GPU", "gpus")

    def model(self, name: str) -> ModelEntry:
        return self._resolve(name, self._model_names, "models", "model", "models")

    def has_model_name(self, name: str) -> bool:
        return _norm(name) in self._model_names


def user_catalog_paths(flag_paths: list[str] | None) -> list[str]:
    paths = [p for p in os.environ.get(CATALOG_ENV, "").split(os.pathsep) if p.strip()]
    return paths + list(flag_paths or [])


_BUILTIN: Catalog | None = None


def load_catalog(user_paths: list[str] | None = None) -> Catalog:
    """The shipped catalog plus user files (``--catalog`` and ``INFERWALL_CATALOG``)."""
    global _BUILTIN
    extra = user_catalog_paths(user_paths)
    if _BUILTIN is None or extra:
        cat = Catalog()
        base = specs_dir()
        cat.add_file(os.path.join(base, "gpus.yaml"), builtin=True)
        cat.add_file(os.path.join(base, "models.yaml"), builtin=True)
        for path in extra:
            cat.add_file(path)
        if not extra:
            _BUILTIN = cat
        return cat
    return _BUILTIN


def load_model_file(path: str) -> ModelEntry:
    """A model from a Hugging Face config.json or an inferwall model YAML (one entry, or a models: list)."""
    data = load_document(path)
    if path.endswith(".json"):
        from .hf_config import max_context, model_from_hf_config

        stem = os.path.splitext(os.path.basename(path))[0]
        if stem == "config":
            stem = os.path.basename(os.path.dirname(os.path.realpath(path))) or stem
        model = model_from_hf_config(data, path, model_id=stem)
        return ModelEntry(model=model, aliases=(), source_file=path, hf_id=None, status="user", params_total=None,
                          params_active=None, params_derived_total=None, params_derived_active=None,
                          max_context=max_context(data), sources=(f"Hugging Face config {path}",))
    if isinstance(data, dict) and "models" in data:
        items = data["models"]
        if not isinstance(items, list) or len(items) != 1:
            raise InputError(f"{path}: models: expected a list with exactly one model")
        data = items[0]
    return parse_model(data, path, 0)


# ----------------------------------------------------------------- the Python API's listings


def gpus(filter: str | None = None, catalog: Any = None):
    """The accelerators as ``inferwall gpus -f json`` lists them: ``inferwall.api.Records`` of dicts.

    ``filter``: only entries whose id, name, vendor or aliases contain these words; ``catalog``: extra catalog files.
    """
    from inferwall.api import listing

    return listing("gpus", filter, catalog)


def models(filter: str | None = None, catalog: Any = None):
    """The models as ``inferwall models -f json`` lists them: ``inferwall.api.Records`` of dicts."""
    from inferwall.api import listing

    return listing("models", filter, catalog)
