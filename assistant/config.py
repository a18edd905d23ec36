"""Settings, from keyword arguments or ``ASSISTANT_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

REPO_DIR = Path(__file__).resolve().parent.parent

for _var, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
}.items():
    os.environ.setdefault(_var, _value)


class Settings(BaseModel):
    """Everything a deployment may change without touching code.

    Each field reads ``ASSISTANT_<FIELD>`` from the environment (e.g. ``ASSISTANT_CHROMA_HOST``).
    """

    model_config = ConfigDict(extra="forbid")

    corpus_dir: Path = REPO_DIR / "corpus"
    rules_dir: Path = Path(__file__).resolve().parent / "rules"
    index_dir: Path = REPO_DIR / ".index"
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "guidelines"
    retrieval: Literal["hybrid", "dense", "keyword"] = "hybrid"
    top_k: int = Field(default=8, ge=1, le=50)
    composer: Literal["extractive", "ollama", "openai"] = "extractive"
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = Field(default=60.0, gt=0)
    max_history_turns: int = Field(default=6, ge=0, le=50)

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Settings from ``ASSISTANT_*`` variables, then explicit overrides."""
        values = {}
        for name in cls.model_fields:
            raw = os.environ.get(f"ASSISTANT_{name.upper()}")
            if raw not in (None, ""):
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
