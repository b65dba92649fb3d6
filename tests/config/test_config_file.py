"""The file itself: unreadable, not UTF-8, or not TOML is a ConfigError that says where."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.config import check_settings, load_settings
from gateway.errors import ConfigError

WriteConfig = Callable[[str], Path]  # the conftest fixture that writes etc/gateway.toml


def test_config_syntax_error_names_the_line(write_config: WriteConfig, valid_config_text: str) -> None:
    lines = valid_config_text.splitlines()
    broken_line = lines.index('fee_rate = "0.0035"')
    lines[broken_line] = "fee_rate = 0.0035 %"
    path = write_config("\n".join(lines) + "\n")
    assert check_settings(path) == [
        f"gateway.toml line {broken_line + 1}: expected newline or end of document after a statement "
        "(column 19)"
    ]


def test_config_table_defined_twice_is_a_syntax_error(
    write_config: WriteConfig, valid_config_text: str
) -> None:
    path = write_config(valid_config_text + '\n[clients.bolt]\nname = "again"\n')
    line = valid_config_text.count("\n") + 2
    assert check_settings(path) == [
        f"gateway.toml line {line}: cannot declare clients.bolt twice (column 14)"
    ]


def test_config_unterminated_string_at_the_end(write_config: WriteConfig) -> None:
    problems = check_settings(write_config('[factor]\nname = "unterminated'))
    assert problems == ["gateway.toml line 2: unterminated string (at the end of the file)"]


def test_config_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "gateway.toml"
    with pytest.raises(ConfigError) as raised:
        load_settings(missing)
    assert raised.value.problems == [f"gateway.toml: cannot read {missing} (No such file or directory)"]


def test_config_path_that_is_a_folder(tmp_path: Path) -> None:
    assert check_settings(tmp_path) == [f"{tmp_path.name}: cannot read {tmp_path} (Is a directory)"]


def test_config_not_utf8(write_config: WriteConfig) -> None:
    path = write_config("")
    path.write_bytes(b'[factor]\nname = "Soci\xe9t\xe9"\n')
    assert check_settings(path) == ["gateway.toml line 2: the file must be UTF-8 text (byte 0xe9)"]


def test_config_with_a_byte_order_mark_is_fine(write_config: WriteConfig, valid_config_text: str) -> None:
    path = write_config("")
    path.write_bytes(b"\xef\xbb\xbf" + valid_config_text.encode("utf-8"))
    assert check_settings(path) == []


def test_config_empty_file_lists_the_required_tables(write_config: WriteConfig) -> None:
    assert check_settings(write_config("")) == ["factor: is required", "clients: is required"]
