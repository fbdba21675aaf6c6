"""The cooperative server's settings, declared once (and documented in the README; a test checks that)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

from tutti.coop.errors import ConfigError
from tutti.coop.limits import LIMITS, Rule, default_rules, rules_from
from tutti.settings import Setting, home_dir

DATA_DIR = Setting(
    "TUTTI_COOP_DIR",
    "Folder of the cooperative's data: database, master key file, contributions (default: `coop` in the Tutti home; "
    "`--home` puts it under that home).",
)
DATABASE_URL = Setting(
    "TUTTI_DATABASE_URL",
    "Database of the cooperative: `sqlite:///PATH` or `postgresql+psycopg://USER@HOST/DB` (default: the SQLite file "
    "`coop.sqlite` in the data folder); `--database-url` overrides it.",
)
MASTER_KEY = Setting(
    "TUTTI_COOP_MASTER_KEY",
    "Server master key: base64 of 32 random bytes. It wraps every member's data key and the audit log's signing key. "
    "Default: the file `master.key` (mode 0600) that `tutti coop init` writes in the data folder. Empty or "
    "placeholder keys are refused.",
)
SESSION_SECRET = Setting(
    "TUTTI_COOP_SESSION_SECRET",
    "Secret of at least 32 characters keying login cookies and rate-limit counters (default: derived from the "
    "master key).",
)
SESSION_HOURS = Setting("TUTTI_COOP_SESSION_HOURS", "How long a login lasts, in hours (default: 12).")
CAPACITY = Setting(
    "TUTTI_COOP_CAPACITY",
    "Members admitted per day when the cooperative is founded (default: 100); later only a passed policy vote "
    "changes it, and every change is in the audit log.",
)
PASSWORD_TIME_COST = Setting(
    "TUTTI_COOP_PASSWORD_TIME_COST",
    "Passes over memory of each Argon2id password hash (default: 3). Higher makes stolen password hashes slower to "
    "guess and every login and signup slower too; a changed cost applies to each member at their next login.",
)
PASSWORD_MEMORY_KIB = Setting(
    "TUTTI_COOP_PASSWORD_MEMORY_KIB",
    "Memory of each Argon2id password hash, in KiB (default: 65536, that is 64 MiB; at least 8192). Each login "
    "and signup holds this much while it hashes.",
)
STEWARD_PASSWORD = Setting(
    "TUTTI_STEWARD_PASSWORD",
    "Password of the first steward for `tutti coop init` run from scripts (otherwise it is asked for).",
)
WORKERS = Setting(
    "TUTTI_COOP_WORKERS",
    "Background workers that `tutti coop serve` runs inside the server, validating uploads and keeping house "
    "(default: 1; 0 runs none, when separate `tutti coop worker` processes do the work).",
)
TRUSTED_PROXIES = Setting(
    "TUTTI_COOP_TRUSTED_PROXIES",
    "Addresses of the reverse proxies in front of the server, as a comma-separated list of IPs or CIDR ranges "
    "(default: none). `X-Forwarded-For` and `X-Forwarded-Proto` are believed only from these, read right to left "
    "past each trusted hop; without this setting every client is the address that connects.",
)
SMTP_HOST = Setting(
    "TUTTI_COOP_SMTP_HOST",
    "Mail server the cooperative sends its messages through (signup notices). Default: none, and every message is "
    "written as an `.eml` file, readable by the owner only, to the `outbox` folder of the data folder (also where "
    "a message goes when the server cannot be reached; once a server is set, the `send-outbox` job sends what was "
    "kept).",
)
SMTP_PORT = Setting("TUTTI_COOP_SMTP_PORT", "Port of the mail server (default: 587, or 465 with `tls`).")
SMTP_SECURITY = Setting(
    "TUTTI_COOP_SMTP_SECURITY",
    "`starttls` (the default), `tls` (encrypted from the start) or `none` (only for a relay on the same host).",
)
SMTP_USER = Setting("TUTTI_COOP_SMTP_USER", "User name at the mail server, if it asks for one.")
SMTP_PASSWORD = Setting("TUTTI_COOP_SMTP_PASSWORD", "Password at the mail server, with `TUTTI_COOP_SMTP_USER`.")
MAIL_FROM = Setting(
    "TUTTI_COOP_MAIL_FROM", "Sender address of the cooperative's messages (default: `tutti@localhost`)."
)
LEASE_SECONDS = Setting(
    "TUTTI_COOP_LEASE_SECONDS",
    "Seconds a worker holds a job between heartbeats before another worker may take it over (default: each job "
    "kind's own lease, 60 for validating an upload).",
)
DB_CONNECTIONS = Setting(
    "TUTTI_COOP_DB_CONNECTIONS",
    "Database connections each server or worker process may open at most (default: 50: one for each of the 40 "
    "requests the server handles at once, each upload being stored and each background worker, so that no request "
    "waits for a connection). Requests hold one only while they read or write, never two.",
)
UPLOADS_AT_ONCE = Setting(
    "TUTTI_COOP_UPLOADS_AT_ONCE",
    "Uploads the server stores at once, saving and sealing their files, and the threads that write arriving "
    "upload bodies to disk (default: 4); more wait their turn "
    "holding neither a thread nor a database connection, so a burst of uploads leaves the other pages answering.",
)
ENGINE = Setting(
    "TUTTI_COOP_ENGINE",
    "Engine that builds releases and answers buyers' queries over the pool: `duckdb` (default, on this machine) "
    "or `spark` (needs `pip install 'tutti[spark]'` and a JDK).",
)
SPARK_MASTER = Setting(
    "TUTTI_COOP_SPARK_MASTER",
    "Spark master URL when the engine is `spark` (default: `local[2]`; a cluster: `spark://host:7077`).",
)

COOP_SETTINGS: tuple[Setting, ...] = (
    DATA_DIR,
    DATABASE_URL,
    MASTER_KEY,
    SESSION_SECRET,
    SESSION_HOURS,
    CAPACITY,
    PASSWORD_TIME_COST,
    PASSWORD_MEMORY_KIB,
    STEWARD_PASSWORD,
    WORKERS,
    LEASE_SECONDS,
    DB_CONNECTIONS,
    UPLOADS_AT_ONCE,
    TRUSTED_PROXIES,
    SMTP_HOST,
    SMTP_PORT,
    SMTP_SECURITY,
    SMTP_USER,
    SMTP_PASSWORD,
    MAIL_FROM,
    ENGINE,
    SPARK_MASTER,
    *(limit.setting for limit in LIMITS),
)

MASTER_KEY_FILE = "master.key"
DATABASE_FILE = "coop.sqlite"
DEFAULT_SESSION_HOURS = 12
DEFAULT_CAPACITY = 100
DEFAULT_WORKERS = 1
DEFAULT_DB_CONNECTIONS = 50
DEFAULT_UPLOADS_AT_ONCE = 4
DEFAULT_SMTP_PORT = 587
DEFAULT_MAIL_FROM = "tutti@localhost"
ENGINE_NAMES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[2]"
SMTP_SECURITIES = ("starttls", "tls", "none")
KEY_BYTES = 32
# argon2-cffi's own defaults (RFC 9106's low-memory profile), what every password was hashed with before the cost
# could be set. Less than 8 MiB makes a stolen hash cheap to guess on a graphics card.
DEFAULT_PASSWORD_TIME_COST = 3
DEFAULT_PASSWORD_MEMORY_KIB = 64 * 1024
MIN_PASSWORD_MEMORY_KIB = 8 * 1024
# The least Argon2id accepts (8 KiB for each of its 4 lanes): the tests hash hundreds of passwords and guard
# nothing, so they do it in microseconds. Only ``for_tests`` sets it; the environment cannot go below the minimum.
TEST_PASSWORD_TIME_COST = 1
TEST_PASSWORD_MEMORY_KIB = 32

# A key everyone can read in the tests; refused everywhere else, like all-zero and other low-entropy keys.
TEST_MASTER_KEY = b"tutti-test-master-key-not-secret"
_PLACEHOLDER_WORDS = frozenset({"changethis", "changeme", "change-me", "secret", "placeholder", "xxx", "todo"})


@dataclass(frozen=True)
class MailSettings:
    """How the cooperative sends mail (``tutti.coop.mail``); no host: to the outbox folder."""

    host: str | None = None
    port: int = DEFAULT_SMTP_PORT
    security: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = DEFAULT_MAIL_FROM


@dataclass(frozen=True)
class CoopSettings:
    """Resolved settings of one cooperative server; secrets stay out of ``repr`` (and so out of tracebacks)."""

    data_dir: Path
    database_url: str
    master_key: bytes = field(repr=False)
    session_secret: bytes = field(repr=False)
    session_hours: int = DEFAULT_SESSION_HOURS
    onboarding_capacity: int = DEFAULT_CAPACITY
    password_time_cost: int = DEFAULT_PASSWORD_TIME_COST
    password_memory_kib: int = DEFAULT_PASSWORD_MEMORY_KIB
    workers: int = DEFAULT_WORKERS
    # None: each job kind's own lease (``tutti.coop.jobs.registry``).
    lease_seconds: int | None = None
    uploads_at_once: int = DEFAULT_UPLOADS_AT_ONCE
    # Every limit of ``tutti.coop.limits.LIMITS`` by action: its setting's value, else its default.
    limits: Mapping[str, Rule] = field(default_factory=default_rules)
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    mail: MailSettings = field(default_factory=lambda: MailSettings())
    engine: str = "duckdb"
    spark_master: str = DEFAULT_SPARK_MASTER

    @classmethod
    def for_tests(
        cls, data_dir: Path, database_url: str, *, onboarding_capacity: int = DEFAULT_CAPACITY
    ) -> CoopSettings:
        """Settings with the well-known test master key and the cheapest password hash (both refused elsewhere)."""
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            master_key=TEST_MASTER_KEY,
            session_secret=_derive(TEST_MASTER_KEY, b"session secret"),
            onboarding_capacity=onboarding_capacity,
            password_time_cost=TEST_PASSWORD_TIME_COST,
            password_memory_kib=TEST_PASSWORD_MEMORY_KIB,
        )


def data_dir_for(home: Path | None = None) -> Path:
    """``--home``/coop, else TUTTI_COOP_DIR, else <Tutti home>/coop."""
    if home is not None:
        return home / "coop"
    env = os.environ.get(DATA_DIR.env)
    if env:
        return Path(env).expanduser()
    return home_dir() / "coop"


def database_url_for(data_dir: Path, override: str | None = None) -> str:
    """``--database-url``, else TUTTI_DATABASE_URL, else the SQLite file in the data folder."""
    url = override or os.environ.get(DATABASE_URL.env) or f"sqlite:///{data_dir.resolve() / DATABASE_FILE}"
    # Plain postgresql:// would make SQLAlchemy look for psycopg2; psycopg 3 is what we ship.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def load_coop_settings(
    home: Path | None = None, database_url: str | None = None, *, create_key: bool = False
) -> CoopSettings:
    """Read the settings from the environment and the data folder.

    ``create_key`` (used by ``tutti coop init`` only) writes a fresh master key file when neither the environment
    nor the data folder holds one.
    """
    data_dir = data_dir_for(home)
    master = _master_key(data_dir, create=create_key)
    return CoopSettings(
        data_dir=data_dir,
        database_url=database_url_for(data_dir, database_url),
        master_key=master,
        session_secret=_session_secret(master),
        session_hours=_positive_int(SESSION_HOURS, DEFAULT_SESSION_HOURS, minimum=1),
        onboarding_capacity=_positive_int(CAPACITY, DEFAULT_CAPACITY, minimum=0),
        password_time_cost=_positive_int(PASSWORD_TIME_COST, DEFAULT_PASSWORD_TIME_COST, minimum=1),
        password_memory_kib=_positive_int(
            PASSWORD_MEMORY_KIB, DEFAULT_PASSWORD_MEMORY_KIB, minimum=MIN_PASSWORD_MEMORY_KIB
        ),
        workers=_positive_int(WORKERS, DEFAULT_WORKERS, minimum=0),
        lease_seconds=_positive_int(LEASE_SECONDS, None, minimum=1),
        uploads_at_once=_positive_int(UPLOADS_AT_ONCE, DEFAULT_UPLOADS_AT_ONCE, minimum=1),
        limits=rules_from(),
        trusted_proxies=trusted_proxies_from(os.environ.get(TRUSTED_PROXIES.env, "")),
        mail=_mail_settings(),
        engine=_engine(),
        spark_master=os.environ.get(SPARK_MASTER.env, "").strip() or DEFAULT_SPARK_MASTER,
    )


def _engine() -> str:
    engine = os.environ.get(ENGINE.env, "").strip().lower() or "duckdb"
    if engine not in ENGINE_NAMES:
        raise ConfigError(f"{ENGINE.env} must be one of {', '.join(ENGINE_NAMES)}, not {engine!r}")
    return engine


def _mail_settings() -> MailSettings:
    security = os.environ.get(SMTP_SECURITY.env, "").strip().lower() or "starttls"
    if security not in SMTP_SECURITIES:
        raise ConfigError(f"{SMTP_SECURITY.env} must be one of {', '.join(SMTP_SECURITIES)}, not {security!r}")
    sender = os.environ.get(MAIL_FROM.env, "").strip() or DEFAULT_MAIL_FROM
    if "@" not in sender:
        raise ConfigError(f"{MAIL_FROM.env} must be an email address, not {sender!r}")
    return MailSettings(
        host=os.environ.get(SMTP_HOST.env, "").strip() or None,
        port=_positive_int(SMTP_PORT, 465 if security == "tls" else DEFAULT_SMTP_PORT, minimum=1),
        security=security,
        user=os.environ.get(SMTP_USER.env) or None,
        password=os.environ.get(SMTP_PASSWORD.env) or None,
        sender=sender,
    )


def db_connections() -> int:
    """TUTTI_COOP_DB_CONNECTIONS: read before the settings, since the engine that loads them is sized by it."""
    return _positive_int(DB_CONNECTIONS, DEFAULT_DB_CONNECTIONS, minimum=2)


def trusted_proxies_from(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks of a comma-separated list of addresses and CIDR ranges; a ConfigError naming the bad one."""
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{TRUSTED_PROXIES.env}: {item!r} is not an IP address or CIDR range") from None
    return tuple(networks)


def check_existing_master_key(home: Path | None = None) -> None:
    """Refuse an unusable master key (in the environment or the key file) before anything is asked or made."""
    data_dir = data_dir_for(home)
    if MASTER_KEY.env in os.environ or (data_dir / MASTER_KEY_FILE).exists():
        _master_key(data_dir, create=False)


def check_master_key(key: bytes, origin: str) -> bytes:
    """The key if it is 32 bytes that look random; a ConfigError naming ``origin`` otherwise."""
    if len(key) != KEY_BYTES:
        raise ConfigError(f"{origin} must hold base64 of {KEY_BYTES} random bytes")
    # 32 random bytes have ~31 distinct values; fewer than 16 means a typed-in or zeroed placeholder.
    if key == TEST_MASTER_KEY or len(set(key)) < 16:
        raise ConfigError(f"{origin} holds a placeholder, not a random key; generate one with `tutti coop init`")
    return key


def create_master_key_file(data_dir: Path) -> Path:
    """Write a new random master key readable by its owner only; refuses to replace an existing one."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / MASTER_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} already exists; it is never overwritten") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii") + "\n")
    return path


def _master_key(data_dir: Path, *, create: bool) -> bytes:
    env = os.environ.get(MASTER_KEY.env)
    if env is not None:
        if env.strip().lower() in _PLACEHOLDER_WORDS or not env.strip():
            raise ConfigError(f"{MASTER_KEY.env} is empty or a placeholder; set base64 of {KEY_BYTES} random bytes")
        return check_master_key(_b64(env, MASTER_KEY.env), MASTER_KEY.env)
    path = data_dir / MASTER_KEY_FILE
    if not path.exists():
        if not create:
            raise ConfigError(f"no master key: set {MASTER_KEY.env} or run `tutti coop init` (expected {path})")
        create_master_key_file(data_dir)
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} is readable by other users; restrict it with `chmod 600`")
    return check_master_key(_b64(path.read_text(encoding="ascii"), str(path)), str(path))


def _b64(text: str, origin: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{origin} is not valid base64") from None


def _session_secret(master: bytes) -> bytes:
    env = os.environ.get(SESSION_SECRET.env)
    if env is None:
        return _derive(master, b"session secret")
    if len(env) < 32 or env.strip().lower() in _PLACEHOLDER_WORDS:
        raise ConfigError(f"{SESSION_SECRET.env} must be a random secret of at least 32 characters")
    return env.encode()


def _derive(master: bytes, purpose: bytes) -> bytes:
    # Separate secrets per purpose, so a leaked session secret says nothing about the master key.
    return hmac.new(master, b"tutti-coop " + purpose, hashlib.sha256).digest()


@overload
def _positive_int(setting: Setting, default: int, *, minimum: int) -> int: ...
@overload
def _positive_int(setting: Setting, default: None, *, minimum: int) -> int | None: ...
def _positive_int(setting: Setting, default: int | None, *, minimum: int) -> int | None:
    raw = os.environ.get(setting.env)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{setting.env} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{setting.env} must be at least {minimum}")
    return value
