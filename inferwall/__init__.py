"""inferwall: what it costs to serve a large language model on given hardware, and why.

The Python API (docs/api.md), loaded on first use so that ``import inferwall`` stays instant::

    import inferwall
    r = inferwall.estimate(model="llama-3.1-70b", gpu="h100", gpus=8, batch=64)
    r.latency.tpot_s, r.to_dict()                 # the CLI's JSON
    inferwall.compare(model="llama-3.1-8b", gpu=["h100", "h200"])
    inferwall.sweep(model="llama-3.1-70b", gpus=8, batch="1..256", where="tpot_s<0.05")
    inferwall.plan(model="llama-3.1-8b", users=500, max_tpot="30ms")
    inferwall.fleet("specs/fleets/frontier-2025.yaml"), inferwall.generations()
    inferwall.catalog.gpus(), inferwall.catalog.models()

Every bad input raises ``inferwall.InputError`` with the command's one-line message.
"""

__version__ = "0.1.0"

API = ("estimate", "compare", "sweep", "plan", "fleet", "generations", "Result", "Records")
__all__ = [*API, "InputError", "catalog", "__version__"]


def __getattr__(name: str):
    """The API's names, imported when first used (``import inferwall`` loads nothing else)."""
    if name in API:
        from inferwall import api

        return getattr(api, name)
    if name == "InputError":
        from inferwall.errors import InputError

        return InputError
    if name == "catalog":
        import importlib

        return importlib.import_module("inferwall.catalog")
    raise AttributeError(f"module 'inferwall' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
