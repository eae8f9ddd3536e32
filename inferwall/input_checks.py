"""Warnings about inputs that are valid but out of the model's range; with ``--strict`` they are errors.

Called by ``inputs.build``. Pure logic: returns note lines, or raises ``InputError`` under ``strict``.
"""

from __future__ import annotations

from inferwall.errors import InputError


def check_context(model, entry, input_tokens: int, output_tokens: int, strict: bool) -> list[str]:
    """A context (prompt + generated tokens) longer than the model's maximum: a note, or an error if strict.

    The maximum comes from the catalog entry (``max_context``) or the Hugging Face config
    (``max_position_embeddings``); a bare ``--params`` model has none."""
    limit = getattr(entry, "max_context", None)
    generated = 0 if getattr(model, "encoder", False) else output_tokens  # an encoder reads, it does not generate
    total = input_tokens + generated
    if not limit or total <= limit:
        return []
    parts = f"{input_tokens:,} input + {generated:,} output = {total:,} tokens" if generated else f"{total:,} tokens"
    message = f"the context, {parts}, is longer than the {limit:,} tokens {model.id} supports"
    if strict:
        raise InputError(f"{message}; use --input-tokens and --output-tokens within it (--strict)")
    return [f"{message}: the estimate extrapolates past it (--strict makes this an error)"]
