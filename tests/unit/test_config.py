"""Settings: prefixes, conventional aliases, secrets, and every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import SettingsError, check_timezone, load_settings
from bot.crypto import SecretBox, generate_key


def test_defaults_need_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = load_settings({"PAPERBOY_DATA_DIR": str(tmp_path)}, env_file=None)
    assert s.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'paperboy.db'}"
    assert not s.slack.enabled and not s.discord.enabled
    assert s.digest.time == "09:00" and s.digest.timezone == "UTC"
    assert s.http.port == 3000


def test_conventional_names_are_accepted_and_prefixed_ones_win() -> None:
    s = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_APP_TOKEN": "xapp-1",
            "DISCORD_TOKEN": "abc",
            "PAPERBOY_DISCORD__TOKEN": "prefixed",
            "DATABASE_URL": "postgres://u@h/db",
            "PORT": "8080",
            "HF_ENDPOINT": "http://127.0.0.1:9",
        },
        env_file=None,
    )
    assert s.slack.bot_token is not None and s.slack.bot_token.get_secret_value() == "xoxb-1"
    assert s.slack.socket_mode
    assert s.discord.token is not None and s.discord.token.get_secret_value() == "prefixed"
    assert s.resolved_database_url == "postgresql+asyncpg://u@h/db"
    assert s.http.port == 8080
    assert s.hf.endpoint == "http://127.0.0.1:9"


def test_every_problem_is_listed_and_no_secret_is_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "PAPERBOY_DIGEST__TIMEZONE": "Mars/Olympus",
                "PAPERBOY_DIGEST__TIME": "25:00",
                "PAPERBOY_HTTP__PORT": "not-a-port",
            },
            env_file=None,
        )
    text = str(caught.value)
    assert len(caught.value.problems) == 3
    assert "PAPERBOY_DIGEST__TIMEZONE" in text and "PAPERBOY_DIGEST__TIME" in text and "PAPERBOY_HTTP__PORT" in text


def test_cross_checks() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {"SLACK_BOT_TOKEN": "xoxb-secret-value", "SLACK_CLIENT_ID": "1", "PAPERBOY_SLACK__PERMISSION": "allowlist"},
            env_file=None,
        )
    problems = caught.value.problems
    assert any("SIGNING_SECRET" in p for p in problems)
    assert any("CLIENT_SECRET" in p for p in problems)
    assert any("ALLOWED_USERS" in p for p in problems)
    assert "xoxb-secret-value" not in str(caught.value)
    assert "xoxb-secret-value" not in repr(
        load_settings({"SLACK_BOT_TOKEN": "xoxb-secret-value", "SLACK_APP_TOKEN": "xapp-1"}, env_file=None)
    )


def test_compose_replicas_split_the_discord_bots_global_limit() -> None:
    """Discord allows a bot 50 requests per second however many replicas share its token."""
    import yaml

    from tests.shared_data import REPO

    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    paperboy = compose["services"]["paperboy"]
    per_replica = int(paperboy["environment"]["PAPERBOY_DISCORD__REQUESTS_PER_SECOND"])
    settings = load_settings({"PAPERBOY_DISCORD__REQUESTS_PER_SECOND": str(per_replica)}, env_file=None)
    assert settings.discord.requests_per_second == per_replica
    assert paperboy["deploy"]["replicas"] * per_replica <= 50


def test_compose_keeps_the_database_password_a_secret_with_no_default(tmp_path: Path) -> None:
    import yaml

    from tests.shared_data import REPO

    text = (REPO / "compose.yaml").read_text()
    compose = yaml.safe_load(text)
    # `${VAR:?message}`: compose refuses to start when the variable is unset or empty.
    assert compose["secrets"]["database_password"]["file"].startswith("${POSTGRES_PASSWORD_FILE:?")
    assert "POSTGRES_PASSWORD:" not in text and ":-paperboy" not in text
    postgres, paperboy = compose["services"]["postgres"], compose["services"]["paperboy"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/database_password"
    assert "database_password" in postgres["secrets"] and "database_password" in paperboy["secrets"]
    # What the paperboy service is given reaches PostgreSQL as the URL's password.
    secret = tmp_path / "database_password"
    secret.write_text("p@ss/word\n")
    assert paperboy["environment"]["PAPERBOY_DATABASE_PASSWORD_FILE"] == "/run/secrets/database_password"
    env = {"DATABASE_URL": paperboy["environment"]["DATABASE_URL"], "PAPERBOY_DATABASE_PASSWORD_FILE": str(secret)}
    settings = load_settings(env, env_file=None)
    assert settings.resolved_database_url == "postgresql+asyncpg://paperboy:p%40ss%2Fword@postgres:5432/paperboy"
    assert "p@ss" not in repr(settings)


def test_every_setting_also_reads_from_a_file_or_a_secrets_folder(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("from-file\n")
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "slack_signing_secret").write_text("signing-from-folder")
    (folder / "unrelated_thing").write_text("ignored")
    settings = load_settings(
        {"DISCORD_TOKEN_FILE": str(tmp_path / "token"), "PAPERBOY_SECRETS_DIR": str(folder), "SLACK_BOT_TOKEN": "x"},
        env_file=None,
    )
    assert settings.discord.token is not None and settings.discord.token.get_secret_value() == "from-file"
    signing = settings.slack.signing_secret
    assert signing is not None and signing.get_secret_value() == "signing-from-folder"
    # The environment wins over the folder (a file in /run/secrets is the default, not an override).
    settings = load_settings(
        {"PAPERBOY_SECRETS_DIR": str(folder), "SLACK_SIGNING_SECRET": "env", "SLACK_BOT_TOKEN": "x"}, env_file=None
    )
    assert settings.slack.signing_secret is not None and settings.slack.signing_secret.get_secret_value() == "env"
    big = tmp_path / "big"
    big.write_bytes(b"x" * (65 * 1024))
    for env, problem in (
        ({"HF_TOKEN_FILE": str(tmp_path / "missing")}, "HF_TOKEN_FILE: cannot read"),
        ({"HF_TOKEN_FILE": str(big)}, "larger than 64 KiB"),
        ({"HF_TOKEN": "a", "HF_TOKEN_FILE": str(big)}, "HF_TOKEN and HF_TOKEN_FILE are both set"),
    ):
        with pytest.raises(SettingsError) as caught:
            load_settings(env, env_file=None)
        assert problem in str(caught.value)


def test_slack_oauth_needs_a_secret_key_and_a_bad_one_is_not_echoed() -> None:
    oauth = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"}
    with pytest.raises(SettingsError) as missing:
        load_settings(oauth, env_file=None)
    assert any("PAPERBOY_SECRET_KEY is needed for Slack OAuth" in p for p in missing.value.problems)
    good = generate_key()
    for bad in ("not-a-key-but-secret-ish", f"{good},", f"{good},also-not-a-key"):
        with pytest.raises(SettingsError) as malformed:
            load_settings({**oauth, "PAPERBOY_SECRET_KEY": bad}, env_file=None)
        (problem,) = malformed.value.problems
        assert problem.startswith("PAPERBOY_SECRET_KEY: ")
        assert "not-a-key" not in str(malformed.value) and good not in str(malformed.value)
    settings = load_settings({**oauth, "PAPERBOY_SECRET_KEY": f"{generate_key()},{good}"}, env_file=None)
    box = settings.secret_box
    assert box is not None and box.open(SecretBox.from_setting(good).seal("xoxb-1")) == "xoxb-1"
    assert good not in repr(settings)


def test_timezones_are_read_from_the_list_of_zones() -> None:
    assert check_timezone(" europe/paris ") == "Europe/Paris"
    assert check_timezone("UTC") == "UTC"
    for name in ("America", "Etc", "localtime", "A" * 256, "../etc/passwd", "Europe/Paris\x00", "", "/UTC"):
        with pytest.raises(ValueError, match="not an IANA timezone"):
            check_timezone(name)
    with pytest.raises(SettingsError):
        load_settings({"PAPERBOY_DIGEST__TIMEZONE": "Etc"}, env_file=None)
