"""The model registry: one folder per version, and an explicit ``current.json``.

Layout (``Settings.registry_dir``, env ``LEAD_SCORING_REGISTRY``, default ``registry/``)::

    registry/
      current.json          {"version": "v0002", "model_sha256": "..."}
      v0001/model.onnx      the exported model (input ``features``, see leadscore.export)
      v0001/card.json       the model card (metrics, windows, features, baselines, ...)
      v0001/card.html       the same for people, with plots
      v0002/...

Versions are numbered in registration order (``v0001``, ``v0002``, ...): the name carries no
timestamp, and registering a model whose bytes and training data are identical to an
existing version returns that version instead of adding a copy. A version folder is written
under a temporary name and renamed into place, so a reader never sees half a version;
``current.json`` is replaced atomically with ``os.replace``. Promoting an older version is a
rollback. Loading verifies the model's sha256 against the card and ``current.json``: a file
that changed after registration is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leadscore.config import Settings
from leadscore.export import sha256_hex

CURRENT_FILE = "current.json"
MODEL_FILE = "model.onnx"
CARD_FILE = "card.json"
CARD_HTML_FILE = "card.html"
_VERSION = re.compile(r"^v(\d{4,})$")
# mkdtemp/mkstemp create private entries; registered versions are readable like any file.
DIR_MODE = 0o755
FILE_MODE = 0o644


class RegistryError(RuntimeError):
    """A registry operation failed (unknown version, checksum mismatch, ...)."""


@dataclass(frozen=True)
class LoadedModel:
    """A verified model from the registry."""

    version: str
    model_bytes: bytes
    card: dict[str, Any]


def dump_json(data: Any) -> str:
    """The registry's JSON: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"


def versions(registry_dir: Path) -> list[str]:
    """Registered versions, oldest first."""
    if not registry_dir.is_dir():
        return []
    found = [
        path.name
        for path in registry_dir.iterdir()
        if path.is_dir() and _VERSION.match(path.name) and (path / CARD_FILE).exists()
    ]
    return sorted(found, key=lambda name: int(_VERSION.match(name).group(1)))  # type: ignore[union-attr]


def read_card(registry_dir: Path, version: str) -> dict[str, Any]:
    """The card.json of a version."""
    path = registry_dir / version / CARD_FILE
    if not path.exists():
        raise RegistryError(f"no version {version!r} in {registry_dir}")
    return json.loads(path.read_text())


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, FILE_MODE)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def find_identical(registry_dir: Path, model_sha256: str, data_hash: str) -> str | None:
    """A registered version with the same model bytes trained on the same data, if any."""
    for version in versions(registry_dir):
        card = read_card(registry_dir, version)
        if card.get("model_sha256") == model_sha256 and card.get("data_hash") == data_hash:
            return version
    return None


def add_version(
    registry_dir: Path,
    model_bytes: bytes,
    card: Mapping[str, Any],
    render_html: Callable[[Mapping[str, Any]], str] | None = None,
) -> tuple[str, bool]:
    """Register a model and its card under the next version number.

    The card's ``version`` and ``model_sha256`` are filled in here; ``render_html`` turns the
    completed card into card.html. When an identical model (same bytes, same data hash) is
    already registered, nothing is written.

    Returns
    -------
    (version, created)
    """
    registry_dir.mkdir(parents=True, exist_ok=True)
    model_sha = sha256_hex(model_bytes)
    existing = find_identical(registry_dir, model_sha, str(card.get("data_hash")))
    if existing:
        return existing, False
    staging = Path(tempfile.mkdtemp(dir=registry_dir, prefix=".staging-"))
    os.chmod(staging, DIR_MODE)
    try:
        (staging / MODEL_FILE).write_bytes(model_bytes)
        for attempt in range(1000):
            taken = versions(registry_dir)
            number = int(taken[-1][1:]) + 1 + attempt if taken else 1 + attempt
            version = f"v{number:04d}"
            full_card = {**card, "version": version, "model_sha256": model_sha}
            (staging / CARD_FILE).write_text(dump_json(full_card))
            if render_html is not None:
                (staging / CARD_HTML_FILE).write_text(render_html(full_card))
            try:
                # Renaming onto an existing non-empty folder fails: another process won.
                os.rename(staging, registry_dir / version)
            except OSError:
                continue
            return version, True
        raise RegistryError("could not allocate a version number")
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def current(registry_dir: Path) -> dict[str, Any] | None:
    """The content of current.json, or None before the first promotion."""
    path = registry_dir / CURRENT_FILE
    return json.loads(path.read_text()) if path.exists() else None


def verify(registry_dir: Path, version: str) -> tuple[bytes, dict[str, Any]]:
    """The model bytes and card of a version, after checking the model's sha256.

    Raises
    ------
    RegistryError
        When the version is unknown or model.onnx does not match the card's sha256.
    """
    card = read_card(registry_dir, version)
    if card.get("version") != version:
        raise RegistryError(f"{version}/card.json says it is version {card.get('version')!r}")
    model_bytes = (registry_dir / version / MODEL_FILE).read_bytes()
    actual = sha256_hex(model_bytes)
    if actual != card.get("model_sha256"):
        raise RegistryError(
            f"{version}/model.onnx sha256 {actual} does not match its card "
            f"({card.get('model_sha256')}); refusing to use it"
        )
    return model_bytes, card


def promote(registry_dir: Path, version: str) -> dict[str, Any]:
    """Make ``version`` the current model (rollback = promote an older version)."""
    if not _VERSION.match(version) and version.isdigit():
        version = f"v{int(version):04d}"
    _, card = verify(registry_dir, version)
    pointer = {"version": version, "model_sha256": card["model_sha256"]}
    _write_atomic(registry_dir / CURRENT_FILE, dump_json(pointer))
    return pointer


def load_current(registry_dir: Path) -> LoadedModel:
    """The promoted model, verified against both current.json and its card.

    Raises
    ------
    RegistryError
        When nothing is promoted or a checksum does not match.
    """
    pointer = current(registry_dir)
    if pointer is None:
        raise RegistryError(f"no current model in {registry_dir}; run `leadscore train`")
    model_bytes, card = verify(registry_dir, pointer["version"])
    if card["model_sha256"] != pointer["model_sha256"]:
        raise RegistryError(
            f"current.json names {pointer['version']} with sha256 {pointer['model_sha256']}, "
            f"the card says {card['model_sha256']}"
        )
    return LoadedModel(version=pointer["version"], model_bytes=model_bytes, card=card)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def describe_versions(registry_dir: Path) -> list[str]:
    """One line per version: test metrics, model, window, and which one is current."""
    pointer = current(registry_dir) or {}
    lines = [
        f"  {'version':<8} {'model':<24} {'calib':<9} {'pr_auc':>7} {'roc_auc':>7} "
        f"{'brier':>7} {'ece':>6} {'lift10':>6} {'cap20':>6}  test window"
    ]
    for version in versions(registry_dir):
        card = read_card(registry_dir, version)
        test = card.get("metrics", {}).get("test", {})
        window = card.get("training_window", {}).get("test", {})
        marker = "*" if pointer.get("version") == version else " "
        lines.append(
            f"{marker} {version:<8} {card.get('model_type', '?'):<24} "
            f"{card.get('calibration', {}).get('method', '?'):<9} "
            f"{_fmt(test.get('pr_auc')):>7} {_fmt(test.get('roc_auc')):>7} "
            f"{_fmt(test.get('brier')):>7} {_fmt(test.get('ece')):>6} "
            f"{_fmt(test.get('lift_at_10')):>6} {_fmt(test.get('capture_at_20')):>6}  "
            f"{window.get('start', '?')}..{window.get('end', '?')}"
        )
    return lines


def _cmd_promote(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        pointer = promote(settings.registry_dir, args.version)
    except RegistryError as error:
        print(f"error: {error}")
        return 1
    print(f"current model is now {pointer['version']} (sha256 {pointer['model_sha256'][:12]})")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if not versions(settings.registry_dir):
        print(f"no models registered in {settings.registry_dir}")
        return 0
    print(f"registry {settings.registry_dir} (* = current; metrics on each model's test window)")
    for line in describe_versions(settings.registry_dir):
        print(line)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``promote`` and ``models`` sub-commands."""
    promote_parser = subparsers.add_parser(
        "promote", help="make a registered model version current (rollback: an older one)"
    )
    promote_parser.add_argument("version", help="version to promote, e.g. v0002")
    promote_parser.set_defaults(func=_cmd_promote)
    models = subparsers.add_parser("models", help="list registered models and the current one")
    models.set_defaults(func=_cmd_models)
