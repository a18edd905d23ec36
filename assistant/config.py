"""Settings, from keyword arguments or ``ASSISTANT_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_DIR = Path(__file__).resolve().parent.parent

for _var, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
}.items():
    os.environ.setdefault(_var, _value)


class Settings(BaseSettings):
    """Everything a deployment may change without touching code.

    Each field reads ``ASSISTANT_<FIELD>`` from the environment (e.g. ``ASSISTANT_CHROMA_HOST``);
    keyword arguments win over the environment. An empty variable counts as unset.
    """

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", extra="forbid", env_ignore_empty=True, case_sensitive=False
    )

    corpus_dir: Path = Field(REPO_DIR / "corpus", description="documents and their sidecars")
    rules_dir: Path = Field(
        Path(__file__).resolve().parent / "rules", description="rules and tuning files"
    )
    index_dir: Path = Field(REPO_DIR / ".index", description="the embedded Chroma folder")
    chroma_host: str | None = Field(None, description="use a Chroma server at this host")
    chroma_port: int = Field(8000, ge=1, le=65535)
    collection: str = Field("guidelines", min_length=3)
    hnsw_ef_search: int = Field(
        default=500,
        ge=10,
        le=10_000,
        description="breadth of Chroma's approximate (HNSW) search; at or above the number of "
        "passages it is exhaustive. Narrower, a question's best passage was missed in about "
        "one process in ten (Chroma builds the graph anew on each load)",
    )
    retrieval: Literal["hybrid", "dense", "keyword"] = "hybrid"
    top_k: int = Field(default=8, ge=1, le=50, description="passages retrieved per question")
    composer: Literal["extractive", "ollama", "openai", "local"] = Field(
        "extractive",
        description="extractive (no model), ollama, openai (any OpenAI-compatible server) or "
        "local (a small model on the CPU, for tests and demos: the [local] extra)",
    )
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = Field(default=60.0, gt=0, description="seconds per model call")
    llm_rewrite: bool = Field(
        default=True, description="a model composer also rewrites follow-ups (guarded)"
    )
    local_max_new_tokens: int = Field(
        default=96, ge=1, le=2048, description="local composer: most new tokens per reply"
    )
    local_max_retrieved: int = Field(
        default=4, ge=1, le=50, description="local composer: top retrieved passages it sees"
    )
    local_threads: int | None = Field(
        default=None, ge=1, le=256, description="local composer: CPU threads (default: torch's)"
    )
    max_history_turns: int = Field(default=6, ge=0, le=50, description="exchanges of history")

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Settings from ``ASSISTANT_*`` variables, then explicit overrides (None = unset)."""
        return cls(**{k: v for k, v in overrides.items() if v is not None})
