"""Settings come from a TOML file and the environment, and bad values are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapter.errors import ConfigError
from adapter.settings import Settings, load_settings


def test_defaults_need_no_file() -> None:
    """With no file and no variables, the defaults apply."""
    assert load_settings(None, {}) == Settings()


def test_the_file_overrides_defaults(tmp_path: Path) -> None:
    """A key in the file replaces its default."""
    path = tmp_path / "adapter.toml"
    path.write_text('[delivery]\nconcurrency = 3\n[store]\nurl = "sqlite:///x.db"\n')
    settings = load_settings(path, {})
    assert settings.delivery.concurrency == 3
    assert settings.store.url == "sqlite:///x.db"


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    """VSB_SECTION__KEY wins over the file, converted to the key's type."""
    path = tmp_path / "adapter.toml"
    path.write_text("[delivery]\nconcurrency = 3\n")
    settings = load_settings(
        path, {"VSB_DELIVERY__CONCURRENCY": "12", "VSB_MONITORING__LOG_JSON": "yes"}
    )
    assert settings.delivery.concurrency == 12
    assert settings.monitoring.log_json is True


def test_settings_are_frozen() -> None:
    """Nobody can change the settings after start."""
    settings = load_settings(None, {})
    with pytest.raises(AttributeError):
        settings.delivery.concurrency = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"VSB_DELIVERY__CONCURRENCY": "many"}, "delivery.concurrency must be int"),
        ({"VSB_DELIVERY__CONCURENCY": "4"}, "unknown setting delivery.concurency"),
        ({"VSB_NOPE__X": "1"}, "unknown setting nope"),
        ({"VSB_DELIVERY__CONCURRENCY": "0"}, "delivery.concurrency must be at least 1"),
        ({"VSB_FACILITY__NIHDI": "123"}, "facility.nihdi must be 11 digits"),
        ({"VSB_STORE__URL": "mysql://x"}, "store.url must be a sqlite or postgresql URL"),
        ({"VSB_DELIVERY__LEASE_SECONDS": "30"}, "delivery.lease_seconds must exceed"),
        ({"VSB_CENTRAL__WSDL": "https://x/?wsdl"}, "central.wsdl must be a local file"),
        ({"VSB_CENTRAL__MAX_ANSWER_BYTES": "100"}, "central.max_answer_bytes must be at least"),
    ],
)
def test_bad_values_are_named(environ: dict[str, str], message: str) -> None:
    """Each bad value is refused with its key and the rule it broke."""
    with pytest.raises(ConfigError, match=message):
        load_settings(None, environ)


def test_a_broken_file_is_named(tmp_path: Path) -> None:
    """A file that is not TOML is refused with its path."""
    path = tmp_path / "adapter.toml"
    path.write_text("[delivery\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, {})
