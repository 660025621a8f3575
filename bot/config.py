"""Paperboy's settings: the only module that reads the environment.

`PAPERBOY_` prefix, nested sections with `__`, a `.env` file, and the names Slack and Discord bot
users already have (`SLACK_BOT_TOKEN`, `DISCORD_TOKEN`, `DATABASE_URL`, `HF_ENDPOINT`, `PORT`).
`load_settings` validates everything at once and raises `SettingsError` listing every problem.
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import functools
import os
import re
import urllib.parse
import zoneinfo
from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.crypto import SETTING as SECRET_KEY_SETTING
from bot.crypto import SecretBox, parse_keys

# ASCII digits only: `\d` would take Arabic-Indic and other Unicode digits as numbers.
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
MAX_TIMEZONE_LENGTH = 64
"""The longest IANA name is 32 characters; the channels table keeps 64."""
_TIMEZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")
# Names zoneinfo lists that are not a place's time: the host's own zone, tzcode internals.
_NOT_TIMEZONES = frozenset({"localtime", "posixrules", "Factory"})


def parse_hhmm(text: str) -> dt.time:
    m = _TIME.fullmatch(text.strip())
    if not m:
        raise ValueError(f"{text[:20]!r} is not a time of day like 09:00 (00:00 to 23:59)")
    return dt.time(int(m.group(1)), int(m.group(2)))


@functools.cache
def _timezones() -> dict[str, str]:
    """Every IANA timezone name, by its casefolded form (read once: it walks the tz database)."""
    return {name.casefold(): name for name in zoneinfo.available_timezones() if name not in _NOT_TIMEZONES}


def check_timezone(name: str) -> str:
    """The IANA timezone `name` spells, in its canonical spelling (`europe/paris` -> `Europe/Paris`).

    The name is looked up in the list of zones, never opened as a path first: a folder of the tz database
    (`America`, `Etc`) or an over-long name is "not a timezone", not an `IsADirectoryError` or `OSError`.
    """
    text = name.strip()
    problem = ValueError(f"{text[:40]!r} is not an IANA timezone (like Europe/Paris or America/New_York)")
    if len(text) > MAX_TIMEZONE_LENGTH or not _TIMEZONE_NAME.fullmatch(text):
        raise problem
    zones = _timezones()
    found = zones.get(text.casefold())
    if found is None:
        close = difflib.get_close_matches(text.casefold(), list(zones), n=1, cutoff=0.8)
        if close:
            raise ValueError(f"{problem}; did you mean {zones[close[0]]}?")
        raise problem
    try:
        zoneinfo.ZoneInfo(found)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):
        raise problem from None  # listed but unreadable (a damaged tz database): not usable either
    return found


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def default_data_dir() -> Path:
    return Path(os.environ.get("PAPERBOY_DATA_DIR", "data")).resolve()


class SlackPermissionRule(enum.StrEnum):
    EVERYONE = "everyone"
    ADMINS = "admins"
    ALLOWLIST = "allowlist"


class SlackSettings(BaseModel):
    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    api_url: str = "https://slack.com/api/"
    command: str = "/papers"
    permission: SlackPermissionRule = SlackPermissionRule.EVERYONE
    allowed_users: list[str] = Field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None or (self.client_id is not None and self.client_secret is not None)

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def oauth(self) -> bool:
        return self.client_id is not None and self.client_secret is not None


class DiscordSettings(BaseModel):
    token: SecretStr | None = None
    api_base: str | None = None
    gateway_url: str | None = None
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: list[int] | None = None
    # Discord allows a bot 50 REST requests per second in all, however many processes share its token:
    # replicas that fan out together should split it (50 / replicas), or Discord answers global 429s.
    requests_per_second: int = Field(default=50, ge=1, le=50)
    # Paper links posted in channels become cards in the library (as on Slack). Off by default: reading
    # messages needs Discord's privileged Message Content intent (switched on in the developer portal; a
    # bot in 100+ servers needs Discord's approval), and the bot then receives every message it can see.
    read_links: bool = False

    @property
    def enabled(self) -> bool:
        return self.token is not None


class HfSettings(BaseModel):
    endpoint: str = "https://huggingface.co"
    token: SecretStr | None = None
    timeout: float = Field(default=20.0, gt=0)


class ArxivSettings(BaseModel):
    # With categories or a query set (and not offline), `paperboy run` fetches them every interval.
    categories: list[str] = Field(default_factory=list)
    query: str | None = None
    api_url: str = "https://export.arxiv.org/api/query"
    # arXiv's rule: one request every 3 seconds, for all of Paperboy's replicas together.
    min_interval: float = Field(default=3.0, ge=0)
    interval_minutes: int = Field(default=60, ge=5)
    # Days arXiv announces nothing (its published holiday schedule), so that `status` can say so.
    holidays: list[dt.date] = Field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.categories or self.query)


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=0, le=65535)


class DigestSettings(BaseModel):
    time: str = "09:00"
    timezone: str = "UTC"
    misfire_grace_hours: float = Field(default=6.0, ge=0)

    @field_validator("time")
    @classmethod
    def _time(cls, v: str) -> str:
        parse_hhmm(v)
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return check_timezone(v)

    @property
    def parsed_time(self) -> dt.time:
        return parse_hhmm(self.time)


class DeliverySettings(BaseModel):
    attempts: int = Field(default=6, ge=1, le=20)
    # Each replica renews a lease every third of this; a claim whose claimer's lease lapsed is taken
    # over by the next recovery pass (the platform is checked for the parts that landed first). A live
    # claimer is never robbed, however slow. Takeover happens within lease + recover interval.
    lease_seconds: float = Field(default=15.0, ge=3, le=300)
    # Digests in flight at once. Slack paces each channel to one post per second, so a digest holds its
    # slot about a second between its message and its thread reply: at 32 a Slack fan-out could not go
    # past ~32 digests a second; at 128 one core is the limit (bench/fanout: ~150 posts/s). Platform
    # limits are kept by the adapters (Discord's global window, Slack's pacing and Retry-After).
    concurrency: int = Field(default=128, ge=1, le=1000)
    # How often unfinished claims (a dead replica's, or given-up ones) are looked at again.
    recover_interval_seconds: float = Field(default=5.0, ge=1)


class IngestSettings(BaseModel):
    interval_minutes: int = Field(default=60, ge=1)
    refetch_days: int = Field(default=3, ge=0, le=30)


class FollowUpSettings(BaseModel):
    # Papers posted within this many days are followed: their code, models, datasets and Spaces.
    window_days: int = Field(default=30, ge=1, le=365)
    # How often the follow-ups due are posted (news found by any ingest or the poll).
    interval_minutes: int = Field(default=60, ge=1, le=1440)
    # Paper-info calls to the Hub per 5 minutes. The Hub allows about 500 anonymously and 1,000 with a
    # token, shared with the ingest and searches: unset, the poll takes 400 (800 with `hf.token`).
    poll_budget: int | None = Field(default=None, ge=1, le=1000)
    poll: bool = True

    def budget(self, has_token: bool) -> int:
        if self.poll_budget is not None:
            return self.poll_budget
        return 800 if has_token else 400


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PAPERBOY_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PAPERBOY_DATABASE_URL", "DATABASE_URL")
    )
    # Kept apart from the URL so the password can come from a secret file (compose.yaml does that);
    # it fills in the password of a postgresql:// URL that has none.
    database_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("PAPERBOY_DATABASE_PASSWORD", "DATABASE_PASSWORD")
    )
    offline: bool = False
    log_level: str = "INFO"
    # Fernet key(s) sealing what Paperboy stores that grants access (Slack workspace tokens): the first
    # seals, every one opens ("new,old" while rotating; bot.crypto).
    secret_key: SecretStr | None = None
    slack: SlackSettings = Field(default_factory=SlackSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    hf: HfSettings = Field(default_factory=HfSettings)
    arxiv: ArxivSettings = Field(default_factory=ArxivSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    followups: FollowUpSettings = Field(default_factory=FollowUpSettings)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @property
    def secret_box(self) -> SecretBox | None:
        """The sealing keys, or None when none is set (nothing secret is stored then)."""
        return None if self.secret_key is None else SecretBox.from_setting(self.secret_key.get_secret_value())

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            url = normalise_database_url(self.database_url)
            if self.database_password is not None and url.startswith("postgresql+asyncpg://"):
                url = _with_password(url, self.database_password.get_secret_value())
            return url
        return f"sqlite+aiosqlite:///{self.data_dir / 'paperboy.db'}"


def _with_password(url: str, password: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is not None or "@" not in parts.netloc:
        return url  # the URL's own password wins; no user, no password to give
    user, host = parts.netloc.rsplit("@", 1)
    netloc = f"{user}:{urllib.parse.quote(password, safe='')}@{host}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (`postgres://`, `postgresql://`, `sqlite:///`) and pick async drivers."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


# Conventional names that Slack and Discord bot users already have, read when the PAPERBOY_ form is unset.
_ALIASES: dict[str, tuple[str, ...]] = {
    "SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SLACK_APP_TOKEN": ("slack", "app_token"),
    "SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "SLACK_CLIENT_ID": ("slack", "client_id"),
    "SLACK_CLIENT_SECRET": ("slack", "client_secret"),
    "DISCORD_TOKEN": ("discord", "token"),
    "HF_ENDPOINT": ("hf", "endpoint"),
    "HF_TOKEN": ("hf", "token"),
    "PORT": ("http", "port"),
}

ALIASES = _ALIASES


class SettingsError(Exception):
    """Every configuration problem at once, one per line, never echoing secret values."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


SECRETS_DIR = "PAPERBOY_SECRETS_DIR"
"""A folder of secret files named after their variables (`/run/secrets/DISCORD_TOKEN`); the image sets it."""

_SECRET_FILE_MAX = 64 * 1024


def _is_setting(name: str) -> bool:
    return name.startswith("PAPERBOY_") or name in _ALIASES or name == "DATABASE_URL"


def _read_secret(path: Path, variable: str) -> str:
    try:
        with path.open("rb") as f:
            data = f.read(_SECRET_FILE_MAX + 1)
    except OSError as exc:
        raise SettingsError([f"{variable}: cannot read {path} ({exc.strerror or type(exc).__name__})"]) from None
    if len(data) > _SECRET_FILE_MAX:
        raise SettingsError([f"{variable}: {path} is larger than {_SECRET_FILE_MAX // 1024} KiB; not a secret"])
    try:
        # Files written with `echo` end in a newline that is no part of the secret.
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SettingsError([f"{variable}: {path} is not UTF-8 text"]) from None


def with_secret_files(env: dict[str, str]) -> dict[str, str]:
    """`env` with every `NAME_FILE=path` read into `NAME`, then every file of `PAPERBOY_SECRETS_DIR` whose
    name is an unset variable's (as Docker and Kubernetes mount secrets), so no secret must sit in the
    environment. Setting both `NAME` and `NAME_FILE` is a mistake, not a precedence rule to remember."""
    resolved = dict(env)
    for key, value in env.items():
        name = key.removesuffix("_FILE")
        if name == key or not _is_setting(name):
            continue  # another program's variable (TF_CLI_CONFIG_FILE, ...): not Paperboy's to read
        if name in env:
            raise SettingsError([f"{name} and {key} are both set; keep one"])
        resolved[name] = _read_secret(Path(value), key)
    folder = env.get(SECRETS_DIR)
    if folder and Path(folder).is_dir():
        for path in sorted(Path(folder).iterdir()):
            name = path.name.upper()
            if path.is_file() and name not in resolved and _is_setting(name):
                resolved[name] = _read_secret(path, name)
    return resolved


def load_settings(environ: dict[str, str] | None = None, *, env_file: str | None = ".env") -> Settings:
    env = with_secret_files(dict(os.environ if environ is None else environ))
    if environ is not None or env != os.environ:
        environ = env  # read from the resolved copy (the process environment stays as it was)
    overrides: dict[str, dict[str, str]] = {}
    for alias, (section, key) in _ALIASES.items():
        native = f"PAPERBOY_{section.upper()}__{key.upper()}"
        if alias in env and native not in env:
            overrides.setdefault(section, {})[key] = env[alias]
    saved = os.environ.copy()
    try:
        if environ is not None:
            os.environ.clear()
            os.environ.update(environ)
        try:
            settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
            if overrides:
                merged = settings.model_dump()
                for section, values in overrides.items():
                    merged[section].update(values)
                settings = Settings.model_validate(merged)
        except ValidationError as exc:
            raise SettingsError([_describe(err) for err in exc.errors()]) from None
    finally:
        if environ is not None:
            os.environ.clear()
            os.environ.update(saved)
    problems = _cross_checks(settings)
    if problems:
        raise SettingsError(problems)
    return settings


def _describe(err: object) -> str:
    assert isinstance(err, dict)
    loc = "__".join(str(p) for p in err.get("loc", ()))
    name = f"PAPERBOY_{loc.upper()}" if loc else "settings"
    # pydantic puts the offending input in the error; leave it out so secrets never leak.
    return f"{name}: {err.get('msg', 'invalid value')}"


def _cross_checks(s: Settings) -> list[str]:
    problems: list[str] = []
    if s.slack.enabled and not s.slack.socket_mode and s.slack.signing_secret is None:
        problems.append(
            "PAPERBOY_SLACK__SIGNING_SECRET (or SLACK_SIGNING_SECRET) is needed for Slack HTTP mode; "
            "set it, or set PAPERBOY_SLACK__APP_TOKEN for Socket Mode"
        )
    if (s.slack.client_id is None) != (s.slack.client_secret is None):
        problems.append("Slack OAuth needs both PAPERBOY_SLACK__CLIENT_ID and PAPERBOY_SLACK__CLIENT_SECRET")
    if s.secret_key is not None:
        try:
            parse_keys(s.secret_key.get_secret_value())
        except ValueError as exc:
            problems.append(f"{SECRET_KEY_SETTING}: {exc}")
    elif s.slack.oauth:
        problems.append(
            f"{SECRET_KEY_SETTING} is needed for Slack OAuth: each workspace's token is stored encrypted with "
            "it. `paperboy db new-key` makes one; keep it as secret as the tokens, and never lose it"
        )
    if s.slack.permission is SlackPermissionRule.ALLOWLIST and not s.slack.allowed_users:
        problems.append("PAPERBOY_SLACK__PERMISSION=allowlist needs PAPERBOY_SLACK__ALLOWED_USERS")
    if s.slack.app_token is not None and not s.slack.app_token.get_secret_value().startswith("xapp-"):
        problems.append("PAPERBOY_SLACK__APP_TOKEN must be an app-level token starting with xapp-")
    if s.discord.shard_ids is not None and s.discord.shard_count is None:
        problems.append("PAPERBOY_DISCORD__SHARD_IDS needs PAPERBOY_DISCORD__SHARD_COUNT")
    if s.discord.shard_ids and s.discord.shard_count is not None:
        bad = [i for i in s.discord.shard_ids if not 0 <= i < s.discord.shard_count]
        if bad:
            problems.append(f"PAPERBOY_DISCORD__SHARD_IDS {bad} are outside 0..{s.discord.shard_count - 1}")
    url = s.resolved_database_url
    if not (url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+asyncpg://")):
        problems.append("PAPERBOY_DATABASE_URL must be a sqlite:// or postgresql:// URL")
    return problems
