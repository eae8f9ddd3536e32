"""One module per command. Each defines ``register(app)``; ``inferwall.cli.main`` discovers them.

``MODULE_OF`` names the module of each command so a one-liner imports only its own module (start-up
time). A command missing from it still works, through discovery of every module; a test keeps it complete.
"""

MODULE_OF = {
    "estimate": "estimate",
    "gpus": "catalog",
    "models": "catalog",
    "compare": "compare",
    "sweep": "sweep",
    "check": "check",
    "schema": "schema",
    "catalog": "catalog_admin",
    "scale": "scale",
    "bounds": "bounds",
    "implied": "implied",
    "trend": "trend",
    "intensity": "intensity",
    "plan": "plan",
    "roofline": "roofline",
    "calibrate": "calibrate",
}
