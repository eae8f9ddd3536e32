"""Calibration: hold inferwall against measurements, fit a profile's few physical parameters, report the error.

* ``rows``: measured rows (the calibration YAML/CSV schema of ``shared/validation/``, ``vllm bench serve`` JSON)
  resolved through the catalog into ``Case``s, each the ``Options`` a user would type plus what to compare;
* ``fit``: the parameters (physical, boxed), a predictor that runs cases through ``inputs.build`` and
  ``core.estimate`` exactly as ``inferwall estimate`` does, a bounded coordinate search, and error statistics;
* ``report``: text and markdown reports, error bands, the profile written back.

``inferwall calibrate`` and ``scripts/calibrate.py`` (the shipped profiles, docs/validation.md) are two faces of
these functions.
"""
