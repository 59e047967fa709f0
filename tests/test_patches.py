"""The Rasa patches: installed together, once, and only on the Rasa series they were written for."""

from __future__ import annotations

from pathlib import Path

import pytest
import rasa

from stores import patches
from stores.patches import PATCHES, UnsupportedRasaVersion

ROOT = Path(__file__).resolve().parents[1]


def unpatched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa's own code back in place for this test (monkeypatch restores ours afterwards)."""
    patches.install()
    for patch in reversed(PATCHES):
        original = patches._current(patch).__wrapped__
        monkeypatch.setattr(
            patch.owner, patch.attribute, staticmethod(original) if patch.static else original
        )


def test_install_replaces_each_attribute_once(monkeypatch: pytest.MonkeyPatch) -> None:
    unpatched(monkeypatch)
    assert not any(patches.is_installed(p) for p in PATCHES)

    first = patches.install()
    assert first == [f"{p.owner.__name__}.{p.attribute}" for p in PATCHES]
    replaced = [patches._current(p) for p in PATCHES]
    assert patches.install() == []
    assert patches.install() == []
    assert [patches._current(p) for p in PATCHES] == replaced
    for patch in PATCHES:  # wraps Rasa's code itself, not an earlier copy of the patch
        assert patches.is_installed(patch)
        assert getattr(patches._current(patch).__wrapped__, patches.MARK, None) is None


@pytest.mark.parametrize("version", ["3.7.0", "3.5.17", "4.0.0", "3.6", "3.60.1", "3.6.0rc1"])
def test_another_rasa_version_is_refused(version: str, monkeypatch: pytest.MonkeyPatch) -> None:
    unpatched(monkeypatch)
    monkeypatch.setattr(rasa, "__version__", version)
    with pytest.raises(UnsupportedRasaVersion) as refused:
        patches.install()
    assert f"Rasa {version} is installed" in str(refused.value)
    assert "3.6.x" in str(refused.value)
    assert not any(patches.is_installed(p) for p in PATCHES)  # nothing half-installed


def test_the_bot_does_not_start_on_another_rasa_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stores.tracker_store import PrivateSQLTrackerStore

    monkeypatch.setattr(rasa, "__version__", "3.7.2")
    with pytest.raises(UnsupportedRasaVersion):
        PrivateSQLTrackerStore(domain=None, dialect="sqlite", db=str(tmp_path / "t.db"))


@pytest.mark.parametrize("version", ["3.6.0", "3.6.21", "3.6.22"])
def test_every_3_6_release_is_accepted(version: str) -> None:
    patches.check_version(version)


def test_building_the_tracker_store_installs_every_patch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stores.tracker_store import PrivateSQLTrackerStore

    unpatched(monkeypatch)
    PrivateSQLTrackerStore(domain=None, dialect="sqlite", db=str(tmp_path / "t.db"))
    assert all(patches.is_installed(p) for p in PATCHES)


def test_each_patch_says_why_and_is_listed_in_the_deployment_guide() -> None:
    guide = (ROOT / "docs" / "deployment.md").read_text()
    for patch in PATCHES:
        assert patch.why and "\n" not in patch.why
        assert f"`{patch.name}`" in guide
        assert f"`{patch.owner.__name__}.{patch.attribute}`" in guide
        if patch.issue:
            assert patch.issue.startswith("rasa #") and patch.issue[len("rasa ") :] in guide
