"""Typed settings, read from HEADATLAS_* environment variables or a .env file."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The reviewed knowledge files shipped with the package.
KNOWLEDGE_DIR = Path(__file__).parent / "knowledge"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEADATLAS_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///headatlas.db"
    knowledge_dir: Path = KNOWLEDGE_DIR
    # Where bundled GGUF files are built and dequantized weights are kept.
    cache_dir: Path = Path.home() / ".cache" / "headatlas"
    # The built documentation site, served at / by `headatlas serve` when it exists.
    site_dir: Path = Path("site/build")
    # Where and in which precision verification runs a model (`headatlas verify --device/--dtype`).
    device: Literal["cpu", "cuda", "mps", "auto"] = "cpu"
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        """Accept the common postgres:// spelling and pick the psycopg 3 driver."""
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value.removeprefix(prefix)
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
