"""Every tunable of the service, read from the environment in one place.

Names are a contract (DESIGN.md): all are prefixed ``TWILIGHT_`` except the upstream
ones (``TUSHARE_TOKEN``, ``TUSHARE_API_URL``, ``SEARXNG_URL``), which users already
have set for other tools.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from profiles.templates import Connection
from provisioning.config import ProvisionerConfig, RunnerConfig


def default_home() -> Path:
    """A per-user data folder, so that `twilight serve` works with no configuration."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "twilight-drive"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TWILIGHT_", extra="ignore", populate_by_name=True)

    home: Path = Field(default_factory=default_home, description="Data folder (warehouse, accounts DB).")
    database_url: str | None = Field(
        default=None, description="Accounts DB URL; default SQLite file under TWILIGHT_HOME."
    )
    tushare_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TUSHARE_TOKEN", "tushare_token")
    )
    tushare_api_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TUSHARE_API_URL", "tushare_api_url"),
        description="Base URL of tushare's HTTP API (mirrors, proxies); default the SDK's own.",
    )
    searxng_url: str | None = Field(default=None, validation_alias=AliasChoices("SEARXNG_URL", "searxng_url"))
    dashscope_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DASHSCOPE_API_KEY", "dashscope_api_key"),
        description="DashScope (Model Studio) key: web search fallback when SearXNG fails.",
    )
    dashscope_search_url: str = Field(
        default="https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation",
        description="DashScope text-generation endpoint asked with enable_search for web search sources.",
    )
    google_cse_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("GOOGLE_CSE_API_KEY", "google_cse_api_key"),
        description="Google Custom Search JSON API key (with GOOGLE_CSE_ID): web search fallback.",
    )
    google_cse_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("GOOGLE_CSE_ID", "google_cse_id"),
        description="Google Programmable Search Engine id (cx).",
    )
    google_cse_url: str = Field(
        default="https://www.googleapis.com/customsearch/v1", description="Google Custom Search JSON API URL."
    )
    search_cache_ttl_seconds: int = Field(
        default=900, ge=0, description="Seconds a `search` answer is served from the warehouse cache."
    )

    host: str = "127.0.0.1"
    port: int = 9100
    transport: Literal["http", "stdio"] = Field(
        default="http",
        description="What `twilight serve` speaks when --transport is not given: for MCP launchers that "
        "pass no arguments through, or swallow --transport as their own (the Inspector CLI does).",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description=(
            "Host headers accepted on every path but the webhook (DNS-rebinding protection), e.g. "
            '["api.example.com", "api.example.com:*"]. Loopback names and the hosts of the public URLs are '
            'always accepted; ["*"] turns the check off (behind a trusted proxy).'
        ),
    )
    log_level: str = "INFO"

    upstream_timeout: float = Field(default=3.0, gt=0, description="Seconds per upstream HTTP call.")
    upstream_tries: int = Field(default=3, ge=1, le=10, description="Tries per upstream call (transient errors).")
    upstream_backoff: float = Field(default=0.5, ge=0, description="First retry delay in seconds; doubles.")
    upstream_max_wait: float = Field(
        default=10.0, ge=0, le=120,
        description="Seconds a question may queue for its provider's request budget before RATE_LIMIT.",
    )  # fmt: skip
    bar_final_time: str = Field(
        default="16:00",
        description="Asia/Shanghai time after which a trading day's daily bar is final upstream.",
    )
    provider_order: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            'Providers to try, in order, per "dataset" or "dataset.market", e.g. '
            '{"daily.cn": ["akshare", "tushare"]}. Default: tushare (with a token), akshare, pytdx for '
            "A-shares; yahoo for global tickers."
        ),
    )
    rate_limits: dict[str, float] = Field(
        default_factory=dict,
        description='Requests per minute per provider, over the defaults {"tushare": 200, "akshare": 60, '
        '"yahoo": 60, "pytdx": 120, "searxng": 120, "dashscope": 60, "google_cse": 60}.',
    )
    breaker_failures: int = Field(default=5, ge=1, description="Consecutive failed requests that open a breaker.")
    breaker_cooldown: float = Field(default=60.0, gt=0, description="Seconds an open breaker refuses requests.")
    eastmoney_url: str | None = Field(
        default=None, description="Base URL standing in for every Eastmoney host akshare calls (mirror, proxy)."
    )
    yahoo_url: str | None = Field(
        default=None, description="Base URL standing in for every Yahoo Finance host yfinance calls."
    )
    tdx_servers: list[str] = Field(
        default_factory=list,
        description='TDX quote servers for pytdx, e.g. ["119.147.212.81:7709"]; default public ones.',
    )
    cross_check: list[str] = Field(
        default_factory=list,
        description='Providers asked for the same A-share close as a second opinion, e.g. ["yahoo"]. '
        "Costs one extra upstream call per code and window. Rows already stored from a second source are "
        "compared either way.",
    )
    wechatpay_mch_id: str | None = Field(default=None, description="Our WeChat Pay merchant id (mchid).")
    wechatpay_apiv3_key: SecretStr | None = Field(default=None, description="The 32-character APIv3 key.")
    wechatpay_public_key_file: Path | None = Field(default=None, description="WeChat Pay public key (PEM).")
    wechatpay_public_key_id: str | None = Field(default=None, description="Its id, PUB_KEY_ID_...")
    wechatpay_api_url: str = Field(
        default="https://api.mch.weixin.qq.com", description="WeChat Pay API v3 base URL (orders are created there)."
    )
    wechatpay_appid: str | None = Field(default=None, description="The AppID bound to our merchant id (orders).")
    wechatpay_merchant_key_file: Path | None = Field(
        default=None, description="Our merchant API private key (apiclient_key.pem) that signs order requests."
    )
    wechatpay_merchant_serial: str | None = Field(default=None, description="Its certificate's serial number.")
    wechatpay_notify_url: str | None = Field(
        default=None, description="Where WeChat Pay notifies payments; default TWILIGHT_PUBLIC_URL/webhooks/wechatpay."
    )
    ilink_url: str = Field(
        default="https://ilinkai.weixin.qq.com", description="Tencent iLink bot API: the bots' WeChat QR binding."
    )
    subscription_check_every: float = Field(
        default=300.0, gt=0, description="Seconds between checks for ended subscriptions (their bots are stopped)."
    )
    plan_prices_fen: dict[str, int] = Field(
        default_factory=lambda: {"pro": 19800}, description='Plans and their prices in fen (CNY), {"pro": 19800}.'
    )
    default_plan: str = Field(default="pro", description="The plan of an order whose `attach` names none.")
    profiles_root: Path | None = Field(
        default=None,
        description="Where this host's profiles live: the profile registry's working copy, the HERMES_HOME root "
        "of every profile (each in profiles/<name>); default TWILIGHT_HOME/profile-registry.",
    )
    public_url: str | None = Field(
        default=None,
        description="This server's public base URL (https://drive.example.com): the payer's page, renewal links "
        "and WeChat Pay's notify URL derive from it; default http://HOST:PORT.",
    )
    public_mcp_url: str | None = Field(
        default=None, description="The MCP URL profiles call; default http://HOST:PORT/mcp of this server."
    )
    llm_gateway_url: str = Field(
        default="http://127.0.0.1:3000/v1", description="OpenAI-compatible token gateway (New-API) profiles use."
    )
    llm_model: str = Field(default="deepseek-chat", description="The model profiles ask the gateway for.")
    llm_key_pool: list[SecretStr] = Field(
        default_factory=list, description='Gateway keys handed to profiles, ["sk-...", ...]; one per user, in turn.'
    )
    profile_runner: Literal["none", "process", "systemd", "docker"] = Field(
        default="none", description="How a provisioned profile is started."
    )
    hermes_bin: str = Field(default="hermes", description="The hermes command (a name on PATH, or a path).")
    profile_registry: str | None = Field(
        default=None,
        description="The profile registry: a bare git repository's path or URL; default "
        "TWILIGHT_HOME/profile-registry.git (made on first use).",
    )
    profile_health_every: float = Field(
        default=30.0, gt=0, description="Seconds between health checks (and restarts) of `process` profiles."
    )
    hermes_image: str = Field(
        default="nousresearch/hermes-agent:latest", description="Image of the docker runner's services."
    )
    receipt_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM, PKCS#8) that signs every answer's cite.receipt; default "
        "TWILIGHT_HOME/receipts/ed25519.pem, made (mode 0600) on first start.",
    )
    ledger_retention_days: int = Field(
        default=400, ge=1, description="Days an answer stays in the ledger (what replies are verified against)."
    )
    ledger_enabled: bool = Field(
        default=True,
        description="Record every answer in the ledger. Off only to measure its cost (bench/): verify_answer "
        "then finds no citation.",
    )
    answer_token_limit: int = Field(
        default=8000,
        ge=0,
        description="A tabular answer estimated over this many tokens is cut: its first rows, a summary of all, "
        "and a resource (and CSV) with the whole result; 0 never cuts.",
    )
    result_ttl_hours: int = Field(
        default=24, ge=1, description="Hours the whole result of a cut answer stays readable by its caller."
    )
    schedule: bool = Field(default=True, description="Run the ingestion scheduler inside `twilight serve`.")
    ingest_daily_at: str = Field(
        default="18:30", description="Whole-market ingestion after the close, Mon-Fri, HH:MM Asia/Shanghai."
    )
    quality_at: str = Field(default="19:00", description="Quality checks, Mon-Fri, HH:MM Asia/Shanghai.")
    macro_weekly_at: str = Field(default="mon 03:00", description="akshare macro ingestion: DAY HH:MM Asia/Shanghai.")
    freshness_every_hours: float = Field(default=6.0, gt=0, description="Hours between source freshness checks.")
    lookback_days: int = Field(
        default=30, ge=5, le=400, description="Calendar days fetched before a date, to find the nearest bar."
    )
    catalog_page_rows: int | None = Field(
        default=None, ge=1, le=100_000,
        description="Rows tushare_query asks per request; default: the interface's row cap from tushare's docs.",
    )  # fmt: skip
    catalog_max_pages: int = Field(
        default=10, ge=1, le=100, description="Requests (pages) one tushare_query may cost at most."
    )

    @cached_property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @cached_property
    def ledger_path(self) -> Path:
        return self.home / "ledger.sqlite"

    @cached_property
    def receipt_key_path(self) -> Path:
        return self.receipt_key_file or self.home / "receipts" / "ed25519.pem"

    @cached_property
    def hermes_home(self) -> Path:
        return self.profiles_root or self.home / "profile-registry"

    @property
    def profile_registry_remote(self) -> str:
        return self.profile_registry or str(self.home / "profile-registry.git")

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def notify_url(self) -> str:
        return self.wechatpay_notify_url or self.base_url + "/webhooks/wechatpay"

    @property
    def join_url(self) -> str:
        """Where a payer pays, and a user renews."""
        return self.base_url + "/join"

    @property
    def mcp_url(self) -> str:
        return self.public_mcp_url or f"http://{self.host}:{self.port}/mcp"

    @cached_property
    def accounts_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'accounts.db'}"

    def ensure_home(self) -> Path:
        """Create the data folder owner-only: it holds the accounts DB with token hashes."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.home

    def profile_connection(self) -> Connection:
        """What the profiles made on this host are wired to."""
        keys = tuple(key.get_secret_value() for key in self.llm_key_pool)
        return Connection(self.mcp_url, self.llm_gateway_url, self.llm_model, keys)

    def runner_config(self) -> RunnerConfig:
        return RunnerConfig(self.profile_runner, self.hermes_bin, self.hermes_image, self.hermes_home / "compose")

    def provisioner_config(self) -> ProvisionerConfig:
        return ProvisionerConfig(self.home, self.hermes_home, self.profile_registry_remote, self.profile_connection(),
                                 self.runner_config())  # fmt: skip
