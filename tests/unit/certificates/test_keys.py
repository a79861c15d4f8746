"""The key files: private modes whatever the umask, modes reset on rotation, a key others can
read refused, and an empty key directory said as such."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from proactive.certificates import keys


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(directory: Path) -> dict[str, int]:
    return {p.name: mode(p) for p in directory.iterdir()} | {".": mode(directory)}


def test_init_under_umask_zero_keeps_everything_private(tmp_path: Path, open_umask: None) -> None:
    directory = tmp_path / "keys"
    _kid, public_path = keys.init(directory)
    assert modes(directory) == {".": 0o700, keys.PRIVATE_FILE: 0o600, public_path.name: 0o644}


def test_init_force_resets_modes(tmp_path: Path, open_umask: None) -> None:
    directory = tmp_path / "keys"
    _kid, old_public = keys.init(directory)
    directory.chmod(0o777)
    (directory / keys.PRIVATE_FILE).chmod(0o644)
    old_public.chmod(0o666)
    _kid, new_public = keys.init(directory, force=True)
    assert modes(directory) == {
        ".": 0o700,
        keys.PRIVATE_FILE: 0o600,
        old_public.name: 0o644,
        new_public.name: 0o644,
    }


@pytest.mark.parametrize("loose", [0o640, 0o604, 0o644, 0o660])
def test_private_key_others_can_read_is_refused(tmp_path: Path, loose: int) -> None:
    keys.init(tmp_path)
    (tmp_path / keys.PRIVATE_FILE).chmod(loose)
    with pytest.raises(keys.SigningKeyError, match=f"mode {loose:04o}.*chmod 600"):
        keys.signing_key(tmp_path)


def test_no_public_keys_is_said_as_such(tmp_path: Path) -> None:
    with pytest.raises(keys.SigningKeyError, match=f"no keys found in {tmp_path / 'none'}"):
        keys.trusted_keys(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(keys.SigningKeyError, match="no keys found in"):
        keys.trusted_keys(tmp_path / "empty")


def test_messages_name_the_directory_absolutely(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(keys.SigningKeyError, match=f"no keys found in {tmp_path / 'keys'}"):
        keys.trusted_keys(Path("keys"))
    with pytest.raises(keys.SigningKeyError, match=f"no private key in {tmp_path / 'keys'}"):
        keys.signing_key(Path("keys"))
