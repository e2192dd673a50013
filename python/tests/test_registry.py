"""The model registry: versions, the explicit current pointer, promotion and rollback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadscore import cli, registry
from leadscore.export import sha256_hex


def card_for(name: str, pr_auc: float) -> dict:
    return {
        "data_hash": f"hash-{name}",
        "model_type": "logistic_regression",
        "calibration": {"method": "sigmoid"},
        "metrics": {"test": {"pr_auc": pr_auc, "roc_auc": 0.8, "brier": 0.03, "ece": 0.01,
                             "lift_at_10": 4.0, "capture_at_20": 0.6}},
        "training_window": {"test": {"start": "2024-07-01", "end": "2024-07-22"}},
    }  # fmt: skip


@pytest.fixture
def two_versions(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    assert registry.add_version(root, b"model one", card_for("one", 0.2)) == ("v0001", True)
    assert registry.add_version(root, b"model two", card_for("two", 0.3)) == ("v0002", True)
    return root


def test_versions_are_numbered_and_carry_their_checksum(two_versions: Path) -> None:
    assert registry.versions(two_versions) == ["v0001", "v0002"]
    card = registry.read_card(two_versions, "v0002")
    assert card["version"] == "v0002"
    assert card["model_sha256"] == sha256_hex(b"model two")
    assert (two_versions / "v0002" / "model.onnx").read_bytes() == b"model two"
    assert registry.current(two_versions) is None  # registering does not promote
    assert not [p for p in two_versions.iterdir() if p.name.startswith(".")]  # no leftovers


def test_identical_model_and_data_reuse_the_version(two_versions: Path) -> None:
    assert registry.add_version(two_versions, b"model one", card_for("one", 0.2)) == (
        "v0001",
        False,
    )
    # Same bytes trained on other data is a new version.
    assert registry.add_version(two_versions, b"model one", card_for("other", 0.2)) == (
        "v0003",
        True,
    )


def test_promote_and_roll_back(two_versions: Path) -> None:
    registry.promote(two_versions, "v0002")
    pointer = json.loads((two_versions / "current.json").read_text())
    assert pointer == {"version": "v0002", "model_sha256": sha256_hex(b"model two")}
    assert registry.load_current(two_versions).model_bytes == b"model two"
    registry.promote(two_versions, "v0001")  # rollback
    loaded = registry.load_current(two_versions)
    assert (loaded.version, loaded.model_bytes) == ("v0001", b"model one")
    assert not [p for p in two_versions.iterdir() if p.name.startswith(".")]


def test_a_changed_model_file_is_refused(two_versions: Path) -> None:
    registry.promote(two_versions, "v0001")
    (two_versions / "v0001" / "model.onnx").write_bytes(b"model onE")
    with pytest.raises(registry.RegistryError, match="does not match"):
        registry.load_current(two_versions)
    with pytest.raises(registry.RegistryError, match="does not match"):
        registry.promote(two_versions, "v0001")
    with pytest.raises(registry.RegistryError, match="no version"):
        registry.promote(two_versions, "v0009")


def test_cli_promote_and_models(
    two_versions: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEAD_SCORING_REGISTRY", str(two_versions))
    assert cli.main(["promote", "v0002"]) == 0
    assert cli.main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    current = [line for line in lines if line.startswith("*")]
    assert len(current) == 1 and "v0002" in current[0] and "0.300" in current[0]
    assert any(line.startswith("  v0001") and "0.200" in line for line in lines)
    assert cli.main(["promote", "1"]) == 0  # rollback by number
    assert registry.current(two_versions)["version"] == "v0001"
    assert cli.main(["promote", "v0042"]) == 1
    assert registry.current(two_versions)["version"] == "v0001"
