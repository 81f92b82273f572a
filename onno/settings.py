"""One settings object, read from ONNO_* environment variables; defaults need no services at all."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from integrations.llm.config import LLMConfig
from pipeline.transcribe import WhisperConfig


class Settings(BaseSettings):
    """Where Onno keeps its data and which models it runs."""

    model_config = SettingsConfigDict(env_prefix="ONNO_", extra="ignore")

    data_dir: Path = Path(platformdirs.user_data_dir("onno", appauthor=False))
    database_url: str = ""  # empty: a SQLite file in data_dir
    blob_dir: Path | None = None  # empty: data_dir/blobs
    whisper_model: str = ""  # empty: the bundled tiny.en
    whisper_device: str = "cpu"
    whisper_compute_type: str = "int8"
    whisper_beam_size: int = 5
    whisper_threads: int = 0
    whisper_batch_size: int = 8  # a mixed recording's VAD windows decoded N at once; 0: one after another (see pipeline/transcribe.py)
    # Findings from an OpenAI-compatible language model; unset: the local rules engine.
    llm_base_url: str = ""  # empty: OpenAI's own endpoint (needs llm_api_key)
    llm_api_key: str = ""
    llm_model: str = ""
    llm_timeout: float = 60.0
    llm_max_chunk_tokens: int = 6000
    llm_price_input_per_mtok: float = 0.0
    llm_price_output_per_mtok: float = 0.0
    llm_max_retries: int = 1
    llm_breaker_failures: int = 3
    llm_breaker_seconds: float = 300.0
    # Web: `onno web` serves the Slack app, webhooks from Stripe, and meeting pages that links point to.
    public_url: str = "http://127.0.0.1:8080"  # how users' browsers reach `onno web`; links are built on it
    secret_key: str = ""  # signs links and encrypts stored tokens; empty: a random key kept in data_dir
    # Billing: off (everything allowed, as on a laptop) until a Stripe key is set; then plans gate intake.
    stripe_api_key: str = Field("", validation_alias=AliasChoices("STRIPE_API_KEY", "ONNO_STRIPE_API_KEY"))
    stripe_webhook_secret: str = Field("", validation_alias=AliasChoices("STRIPE_WEBHOOK_SECRET",
                                                                         "ONNO_STRIPE_WEBHOOK_SECRET"))
    stripe_api_url: str = Field("", validation_alias=AliasChoices("STRIPE_API_URL", "ONNO_STRIPE_API_URL"))
    stripe_price_pro: str = Field("", validation_alias=AliasChoices("STRIPE_PRICE_PRO", "ONNO_STRIPE_PRICE_PRO"))
    stripe_price_team: str = Field("", validation_alias=AliasChoices("STRIPE_PRICE_TEAM", "ONNO_STRIPE_PRICE_TEAM"))
    billing_grace_days: float = 7.0  # a failed payment keeps the paid plan this long before the downgrade
    # Jobs: no broker runs every job in-process; a broker URL (redis://...) sends them to `onno worker`s.
    broker_url: str = ""
    job_lease_seconds: float = 30.0  # a worker that stops renewing for this long is presumed dead
    sweep_interval: float = 10.0  # how often each worker looks for dead leases and lost messages
    requeue_after: float = 60.0  # a queued job not started by then has its message sent again
    job_max_attempts: int = 5
    # Deliveries through the outbox.
    webhook_secret: str = ""
    delivery_max_attempts: int = 8
    delivery_backoff: float = 5.0  # seconds before the first retry; doubles each time
    delivery_backoff_max: float = 600.0
    inline_retry_wait: float = 15.0  # in-process runs wait at most this long in all for delivery retries
    # E-mailed summaries (`--deliver email:participants`): smtp://user:pass@host:587 (STARTTLS when offered),
    # smtps://host:465 (implicit TLS), smtp://host:25 (a local relay, plain).
    smtp_url: str = ""
    mail_from: str = ""  # e.g. "Onno <onno@example.com>"; empty: the SMTP user name, if it is an address
    smtp_timeout: float = 30.0
    # Weekly digests (Team plan; opt-in with `onno digest on` when billing is off): last ISO week's digest goes
    # out once the week after, from this ISO weekday (1 = Monday) and hour (UTC) on, sent by the sweeper.
    digest_weekday: int = Field(1, ge=1, le=7)
    digest_hour: int = Field(8, ge=0, le=23)
    # Slack: SLACK_* as Slack's own docs name them. Client id + secret: installs into many workspaces
    # (OAuth, tokens kept encrypted); else one workspace with SLACK_BOT_TOKEN. SLACK_APP_TOKEN: Socket Mode.
    slack_signing_secret: str = Field("", validation_alias=AliasChoices("slack_signing_secret",
                                                                        "onno_slack_signing_secret"))
    slack_bot_token: str = Field("", validation_alias=AliasChoices("slack_bot_token", "onno_slack_bot_token"))
    slack_client_id: str = Field("", validation_alias=AliasChoices("slack_client_id", "onno_slack_client_id"))
    slack_client_secret: str = Field("", validation_alias=AliasChoices("slack_client_secret",
                                                                       "onno_slack_client_secret"))
    slack_app_token: str = Field("", validation_alias=AliasChoices("slack_app_token", "onno_slack_app_token"))
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=AliasChoices("slack_api_url",
                                                                                       "onno_slack_api_url"))
    # The largest recording either chat bot takes; larger ones get a reply instead of a download.
    chat_max_file_mb: float = Field(500.0, validation_alias=AliasChoices("chat_max_file_mb", "onno_chat_max_file_mb",
                                                                         "onno_slack_max_file_mb"))
    slack_progress_interval: float = 3.0  # seconds between looks at jobs in flight for their progress message
    # Notion (`onno notion connect`, `--deliver notion`): API base URL (tests, proxies), requests per second per
    # integration token in this process, and the longest Retry-After slept in-process (longer: outbox retry).
    notion_api_url: str = Field("https://api.notion.com", validation_alias=AliasChoices("notion_api_url",
                                                                                        "onno_notion_api_url"))
    notion_rate: float = 3.0
    notion_max_wait: float = 10.0
    notion_pull_interval: float = 900.0  # the sweeper pulls each board this often (0: only before deliveries)
    # Notion public integration (OAuth, "Connect Notion" from Slack): its client id and secret, and Notion's
    # authorize page (tests point it elsewhere). Redirect URI to register: ONNO_PUBLIC_URL/notion/oauth/callback.
    notion_client_id: str = Field("", validation_alias=AliasChoices("notion_client_id", "onno_notion_client_id"))
    notion_client_secret: str = Field("", validation_alias=AliasChoices("notion_client_secret",
                                                                        "onno_notion_client_secret"))
    notion_oauth_url: str = Field("https://api.notion.com/v1/oauth/authorize",
                                  validation_alias=AliasChoices("notion_oauth_url", "onno_notion_oauth_url"))
    # Discord: DISCORD_TOKEN (the bot's token; also used by workers posting `discord:` results),
    # DISCORD_API_URL (an API base for tests or proxies), how long an emptied voice channel waits before the meeting
    # ends, and the pace of live transcript edits (Discord allows about 5 edits per message per 5 s).
    discord_token: str = Field("", validation_alias=AliasChoices("discord_token", "onno_discord_token"))
    discord_api_url: str = Field("https://discord.com/api/v10", validation_alias=AliasChoices("discord_api_url",
                                                                                            "onno_discord_api_url"))
    discord_empty_grace: float = 20.0
    discord_edit_interval: float = 1.5

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'onno.db'}"

    @property
    def resolved_secret_key(self) -> str:
        """The configured secret, or one made once and kept in the data folder (fine for one machine); InputError
        when it is too short."""
        from core.keys import checked, stored_key

        return checked(self.secret_key, "ONNO_SECRET_KEY") if self.secret_key else stored_key(self.data_dir)

    @property
    def resolved_blob_dir(self) -> Path:
        return self.blob_dir or self.data_dir / "blobs"

    @property
    def whisper(self) -> WhisperConfig:
        return WhisperConfig(model=self.whisper_model, device=self.whisper_device,
                             compute_type=self.whisper_compute_type, beam_size=self.whisper_beam_size,
                             cpu_threads=self.whisper_threads, batch_size=self.whisper_batch_size)

    @property
    def llm(self) -> LLMConfig | None:
        """The language model to take findings from; None (local engine) without a model and an endpoint or key."""
        if not self.llm_model or not (self.llm_base_url or self.llm_api_key):
            return None
        return LLMConfig(model=self.llm_model, base_url=self.llm_base_url or None, api_key=self.llm_api_key,
                         timeout=self.llm_timeout, max_chunk_tokens=self.llm_max_chunk_tokens,
                         price_input_per_mtok=self.llm_price_input_per_mtok,
                         price_output_per_mtok=self.llm_price_output_per_mtok, max_retries=self.llm_max_retries,
                         breaker_failures=self.llm_breaker_failures, breaker_seconds=self.llm_breaker_seconds)
