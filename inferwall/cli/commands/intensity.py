"""``inferwall intensity``: FLOPs, bytes and arithmetic intensity per operator group (Kim et al. 2023)."""

from __future__ import annotations

from typing import Optional

import typer

from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option

DEFAULT_SEQ_LENS = "128,256,512,1024,2048,4096"


def intensity(
    model: str = typer.Option(..., "--model", "-m", help="Catalog id or alias, a Hugging Face config.json, or an inferwall model YAML (dense MHA/GQA)."),
    seq_len: str = typer.Option(DEFAULT_SEQ_LENS, "--seq-len", "-s", help="Sequence lengths, comma-separated."),
    precision: str = typer.Option("int8", "--precision", "-p", help="Bytes per element of every operand: int8 (1 byte, as in Kim et al.), bf16, fp32, ..."),
    mode: Optional[str] = typer.Option(None, "--mode", help="encoder (one pass over the sequence) or decoder (token by token with a KV cache) \\[default: from the model]."),
    fmt: FormatOpt = format_option(),
    catalog_files: CatalogOpt = catalog_option(),
) -> None:
    """Per operator: FLOPs, memory operations (bytes) and arithmetic intensity at given sequence lengths."""
    from inferwall.core.dtypes import BYTES_PER_ELEMENT, nbytes, normalize
    from inferwall.core.intensity import MODES, operator_breakdown
    from inferwall.core.types import CoreError
    from inferwall.errors import InputError
    from inferwall.inputs import Options, build
    from inferwall.render.economics import big, integer, num, rows_output, text
    from inferwall.units import number, plural

    from ..common import catalog, emit, note, pick_format
    from ._flags import int_list

    from inferwall.core.limits import SEQ_LEN

    lengths = int_list(seq_len, "--seq-len", limit=SEQ_LEN)
    try:
        element = nbytes(normalize(precision))
    except CoreError:
        raise InputError(f"--precision: unknown dtype {precision!r}; valid: {', '.join(BYTES_PER_ELEMENT)}") from None
    if mode is not None and mode not in MODES:
        raise InputError(f"--mode: must be one of {', '.join(MODES)}, not {mode!r}")
    arch = build(Options(model=model), catalog(catalog_files)).scenario.model
    used = mode or ("encoder" if arch.encoder else "decoder")
    rows = []
    for length in lengths:
        for r in operator_breakdown(arch, length, bytes_per_element=element, mode=used):
            rows.append({"model": arch.id, "seq_len": length, "operator": r.operator, "flops": r.flops,
                         "bytes": r.bytes, "arithmetic_intensity": r.arithmetic_intensity})
    columns = [
        ("model", "model", text),
        ("seq_len", "seq len", integer),
        ("operator", "operator", text),
        ("flops", "FLOPs", big),
        ("bytes", "bytes", lambda v: big(v) + "B"),
        ("arithmetic_intensity", "FLOPs/byte", num),
    ]
    how = ("one bidirectional pass over the sequence" if used == "encoder"
           else "generating the sequence token by token with a KV cache, no prompt")
    per_element = plural(element, "byte")
    title = f"Arithmetic intensity: {arch.id} as {_article(used)} ({how}), {per_element} per element"
    emit(rows_output(pick_format(fmt), rows, columns, title))
    totals = [r for r in rows if r["operator"] == "total"]
    lo, hi = totals[0], totals[-1]
    span = (f"{number(lo['arithmetic_intensity'])} FLOPs/byte at {lo['seq_len']:,} tokens"
            + (f", {number(hi['arithmetic_intensity'])} at {hi['seq_len']:,}" if hi is not lo else ""))
    why = (f"a batch-1 decoder re-reads every weight for every token: about {2 / element:g} FLOPs/byte at "
           f"{per_element} per element" if used == "decoder"
           else "an encoder reuses each weight across the whole sequence")
    note(f"{arch.id} as {_article(used)}: total intensity {span} ({why}).")


def _article(mode: str) -> str:
    return "an encoder" if mode == "encoder" else "a decoder"


def register(app: typer.Typer) -> None:
    app.command("intensity")(intensity)
