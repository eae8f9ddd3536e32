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
    total = input_tokens + output_tokens
    if not limit or total <= limit:
        return []
    message = (f"the context, {input_tokens:,} input + {output_tokens:,} output = {total:,} tokens, is longer than "
               f"the {limit:,} tokens {model.id} supports")
    if strict:
        raise InputError(f"{message}; use --input-tokens and --output-tokens within it (--strict)")
    return [f"{message}: the estimate extrapolates past it (--strict makes this an error)"]
