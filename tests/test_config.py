"""The configuration file and secrets: the example is valid, every problem is named by file,
key path and expectation, secrets come only from the environment or a private file, and no
message ever shows one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeybridge.cli.shops import init
from journeybridge.config import (
    Config,
    example_config,
    load_config,
    load_secrets,
    redact_url,
)
from journeybridge.errors import ConfigError
from journeybridge.stages import Stage


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
[shops.myshop]
url = "https://shop.example.com/"
"""


def test_the_example_configuration_is_valid(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, example_config()))
    (shop,) = config.select(None)
    assert shop.name == "myshop"
    assert shop.timezone == "Europe/Amsterdam"
    assert config.segments == {"repeat_buyers": "orders >= 2",
                               "big_spenders": "total_spent > 500"}
    assert config.stages.settings.abandoned_after_hours == 4
    assert config.sync.lock_timeout == 0


def test_defaults_of_a_minimal_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    shop = config.shops["myshop"]
    assert shop.url == "https://shop.example.com"  # trailing slash dropped
    assert (shop.concurrency, shop.timeout, shop.meta_prefix) == (4, 30.0, "journeybridge_")
    assert shop.env_names == ("JOURNEYBRIDGE_MYSHOP_KEY", "JOURNEYBRIDGE_MYSHOP_SECRET")
    assert config.state_url().startswith("sqlite:///")
    assert config.stages.label(Stage.AT_RISK) == "at_risk"


def test_every_problem_is_named_with_file_key_and_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, """
[sync]
lock_timeout = -1

[stages]
vocabulary = "klingon"

[stages.settings]
horizon_dayz = 90
lapsed_probability = 2

[segments]
vip = "orders >>> 3"

[shops.myshop]
url = "ftp://shop.example.com"
concurrency = "four"
timezone = "Mars/Olympus"
colour = "blue"

[shops."bad name"]
url = "https://x.example"
""")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines)
    text = str(caught.value)
    assert "sync.lock_timeout: Input should be greater than or equal to 0" in text
    assert "stages.vocabulary: expected one of default, five-phases, see-think-do-care" in text
    assert "stages.settings.horizon_dayz: unknown key" in text
    assert "stages.settings.lapsed_probability: Input should be less than or equal to 1" in text
    assert "shops.myshop.url: expected the shop's address starting with http:// or https://" \
        in text
    assert "shops.myshop.concurrency: Input should be a valid integer" in text
    assert "(got 'four')" in text
    assert "shops.myshop.timezone: expected an IANA time zone" in text
    assert "shops.myshop.colour: unknown key" in text
    assert "shops.bad name: a shop name may hold letters, digits" in text
    assert len(lines) == 9  # the segment rule is checked once the rest is valid


def test_a_bad_segment_rule_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '\n[segments]\nvip = "orders >>> 3"\n')
    with pytest.raises(ConfigError, match=r"config.toml: segments: .*vip"):
        load_config(path)


def test_toml_syntax_errors_and_missing_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config.toml: not valid TOML: .*line 2"):
        load_config(write(tmp_path, "[shops.x]\nurl = \n"))
    with pytest.raises(ConfigError, match=r"nope.toml: configuration file not found \(journey"):
        load_config(tmp_path / "nope.toml")


def test_unknown_and_missing_shops(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(ConfigError, match="no shop named 'other'; configured: myshop"):
        config.select("other")
    empty = load_config(write(tmp_path, "[sync]\n", "empty.toml"))
    with pytest.raises(ConfigError, match="no shops configured"):
        empty.select(None)


def test_the_default_path_follows_the_environment(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, MINIMAL, "elsewhere.toml")
    monkeypatch.setenv("JOURNEYBRIDGE_CONFIG", str(path))
    assert load_config().path == path


def test_state_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[sync]\nstate = "data/state.db"\n' + MINIMAL))
    assert config.state_url() == f"sqlite:///{(tmp_path / 'data' / 'state.db').resolve()}"
    pg = load_config(write(tmp_path, '[sync]\nstate = "postgresql://u:pw@db/x"\n' + MINIMAL,
                           "pg.toml"))
    assert pg.state_url() == "postgresql://u:pw@db/x"
    assert redact_url(pg.state_url()) == "postgresql://u:***@db/x"


def test_vocabulary_and_names_decide_what_is_written(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL + """
[stages]
vocabulary = "see-think-do-care"
[stages.names]
lapsed = "Sleeping"
"""))
    assert config.stages.label(Stage.CONSIDERATION) == "Think"
    assert config.stages.label(Stage.LAPSED) == "Sleeping"


# -- secrets --------------------------------------------------------------------------------

def test_secrets_from_the_environment_default_and_custom_names(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL + """
[shops.other-shop]
url = "https://other.example"
key_env = "OTHER_KEY"
secret_env = "OTHER_SECRET"
"""))
    env = {"JOURNEYBRIDGE_MYSHOP_KEY": "ck_one", "JOURNEYBRIDGE_MYSHOP_SECRET": "cs_one",
           "OTHER_KEY": "ck_two", "OTHER_SECRET": "cs_two"}
    mine = load_secrets(config, config.shops["myshop"], env)
    other = load_secrets(config, config.shops["other-shop"], env)
    assert (mine.key, mine.secret, other.key, other.secret) == (
        "ck_one", "cs_one", "ck_two", "cs_two")
    assert "ck_" not in repr(mine) and "cs_" not in repr(mine)


def test_missing_secrets_say_where_to_put_them(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(ConfigError) as caught:
        load_secrets(config, config.shops["myshop"], {"JOURNEYBRIDGE_MYSHOP_KEY": "ck_only"})
    message = str(caught.value)
    assert "shops.myshop: no API key and secret" in message
    assert "JOURNEYBRIDGE_MYSHOP_SECRET" in message
    assert "ck_only" not in message


def secrets_config(tmp_path: Path, mode: int) -> Config:
    secrets = write(tmp_path, '[myshop]\nkey = "ck_file"\nsecret = "cs_file"\n', "secrets.toml")
    os.chmod(secrets, mode)
    return load_config(write(tmp_path, '[sync]\nsecrets_file = "secrets.toml"\n' + MINIMAL))


def test_a_private_secrets_file_is_used(tmp_path: Path) -> None:
    config = secrets_config(tmp_path, 0o600)
    found = load_secrets(config, config.shops["myshop"], {})
    assert (found.key, found.secret) == ("ck_file", "cs_file")
    # the environment wins over the file
    env = {"JOURNEYBRIDGE_MYSHOP_KEY": "ck_env", "JOURNEYBRIDGE_MYSHOP_SECRET": "cs_env"}
    assert load_secrets(config, config.shops["myshop"], env).key == "ck_env"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_secrets_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    config = secrets_config(tmp_path, mode)
    with pytest.raises(ConfigError) as caught:
        load_secrets(config, config.shops["myshop"], {})
    message = str(caught.value)
    assert f"readable by others (mode {mode:03o}); refusing to use it" in message
    assert f"chmod 600 {tmp_path / 'secrets.toml'}" in message
    assert "ck_file" not in message and "cs_file" not in message


def test_a_secrets_file_without_the_shop_says_so(tmp_path: Path) -> None:
    secrets = write(tmp_path, '[othershop]\nkey = "k"\nsecret = "s"\n', "secrets.toml")
    os.chmod(secrets, 0o600)
    config = load_config(write(tmp_path, '[sync]\nsecrets_file = "secrets.toml"\n' + MINIMAL))
    with pytest.raises(ConfigError, match=r"in the \[myshop\] table of .*secrets.toml"):
        load_secrets(config, config.shops["myshop"], {})


def test_a_url_with_credentials_is_refused_without_echoing_them(tmp_path: Path) -> None:
    path = write(tmp_path, '[shops.s]\nurl = "https://ck_abc:cs_def@shop.example"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "shops.s.url: expected an address without user:password" in str(caught.value)
    assert "cs_def" not in str(caught.value)


# -- init -----------------------------------------------------------------------------------

def test_init_writes_a_valid_example_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "conf" / "config.toml"
    first = CliRunner().invoke(init, [str(target)])
    assert first.exit_code == 0, first.output
    assert "Wrote an example configuration" in first.output
    assert load_config(target).shops["myshop"].url == "https://shop.example.com"
    again = CliRunner().invoke(init, [str(target)])
    assert again.exit_code == 2
    assert "already exists; use --force" in again.output
    assert CliRunner().invoke(init, [str(target), "--force"]).exit_code == 0


# -- a key pasted where a variable's name belongs -----------------------------------------

@pytest.mark.parametrize("pasted", [
    "ck_4f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6",            # a WooCommerce consumer key
    "cs_0a9b8c7d6e5f40312a3b4c5d6e7f8091a2b3c4d5",            # ... and secret
    "X4KJ7QZ2M9WPL3R8T5VNB6YH1DC0FGSA",                       # a PrestaShop Webservice key
    "ck-with-dashes!",                                        # not a name at all
])
def test_a_key_pasted_into_key_env_is_never_echoed(tmp_path: Path, pasted: str) -> None:
    path = write(tmp_path, MINIMAL + f'key_env = "{pasted}"\nsecret_env = "{pasted}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "shops.myshop.key_env" in message and "shops.myshop.secret_env" in message
    assert "not the key itself" in message
    assert pasted not in message

    from journeybridge.cli import main

    for command in (["check"], ["sync"], ["journeys"]):
        result = CliRunner().invoke(main, [*command, "--config", str(path)])
        assert result.exit_code == 2
        assert pasted not in result.output


def test_variable_names_are_still_accepted(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL + 'key_env = "MYSHOP_WC_KEY_2024"\n'
                                                   'secret_env = "WOO_SECRET"\n'))
    assert config.shops["myshop"].env_names == ("MYSHOP_WC_KEY_2024", "WOO_SECRET")
