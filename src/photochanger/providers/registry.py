"""The provider catalogue: every provider once, with what the rest of the service needs to know
about it — its class and settings model, the environment variable of its API keys, whether it
needs a prompt or a public URL, its models with list prices, and its settings as JSON Schema
(served to the slot editor by ``GET /api/providers``, so the UI builds its fields from it)."""

from dataclasses import dataclass

from pydantic import ValidationError

from photochanger.config import Config
from photochanger.providers.base import Provider, ProviderSettings
from photochanger.providers.gemini import MODELS as GEMINI_MODELS
from photochanger.providers.gemini import GeminiProvider
from photochanger.providers.local import LocalProvider
from photochanger.providers.openai_images import TYPICAL_LATENCY_SECONDS as OPENAI_MODELS
from photochanger.providers.openai_images import OpenAIProvider
from photochanger.providers.pricing import PRICES_PER_MILLION
from photochanger.providers.turbotext import TurbotextProvider
from photochanger.workers import WorkerPool


@dataclass(frozen=True)
class CatalogueEntry:
    """One provider. ``key_setting``: the ``Config`` field holding its API key(s) from the
    environment (None: needs no key); ``models``: the model (or method) ids it offers."""

    name: str
    cls: type
    settings_model: type[ProviderSettings]
    key_setting: str | None
    requires_prompt: bool
    requires_public_url: bool
    models: tuple[str, ...]

    @property
    def key_variable(self) -> str | None:
        """The environment variable of the API key(s), e.g. ``PHOTOCHANGER_GEMINI_API_KEY``."""
        return f"PHOTOCHANGER_{self.key_setting.upper()}" if self.key_setting else None

    def describe(self) -> dict:
        """The JSON shape of ``GET /api/providers`` for this provider (prices in US dollars per
        million tokens: input text, input image, output image; list prices, estimates only;
        settings whose optional extra is not installed, with the install hint)."""
        return {
            "name": self.name,
            "requires_prompt": self.requires_prompt,
            "requires_public_url": self.requires_public_url,
            "key_variable": self.key_variable,
            "models": list(self.models),
            "prices_per_million_tokens": {
                m: list(PRICES_PER_MILLION[m]) for m in self.models if m in PRICES_PER_MILLION
            },
            "settings_schema": self.settings_model.model_json_schema(),
            "unavailable_settings": self.settings_model.unavailable_settings(),
        }


def _entry(cls: type, key_setting: str | None, models: tuple[str, ...]) -> CatalogueEntry:
    return CatalogueEntry(
        cls.name, cls, cls.settings_model, key_setting, cls.requires_prompt, cls.requires_public_url, models
    )


CATALOGUE: dict[str, CatalogueEntry] = {
    entry.name: entry
    for entry in (
        _entry(LocalProvider, None, ()),
        _entry(GeminiProvider, "gemini_api_key", tuple(GEMINI_MODELS)),
        _entry(OpenAIProvider, "openai_api_key", tuple(OPENAI_MODELS)),
        _entry(TurbotextProvider, "turbotext_api_key", ("generate_image2image", "mix_images", "deepfake_photo")),
    )
}
PROVIDER_CLASSES: dict[str, type] = {name: entry.cls for name, entry in CATALOGUE.items()}
PROVIDERS_WITH_KEYS: tuple[str, ...] = tuple(name for name, entry in CATALOGUE.items() if entry.key_setting)


class InvalidSettings(ValueError):
    """A slot's provider, prompt or settings are not acceptable; the message says why in English,
    ``code`` (a stable name: ``unknown_provider``, ``prompt_required``, ``public_url_required``,
    ``invalid_values``, ``unknown_prompt_fields``, ``local_ai_missing``) and ``params`` say it for
    a translation (the admin UI's)."""

    def __init__(self, message: str, code: str = "invalid_values", params: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.params = params or {}


def build_providers(config: Config, images: WorkerPool | None = None) -> dict[str, Provider]:
    """One instance per provider, configured from the environment; ``local`` renders in the
    bounded image pool ``images``."""
    cap = config.provider_max_answer_bytes
    return {
        "local": LocalProvider(images),
        "gemini": GeminiProvider(config.gemini_base_url, cap),
        "openai": OpenAIProvider(config.openai_base_url, cap),
        "turbotext": TurbotextProvider(config.turbotext_base_url, config.turbotext_poll_seconds, cap),
    }


def environment_keys(config: Config, provider: str) -> str | None:
    """The raw API key setting of ``provider`` from the environment (None if it needs none)."""
    setting = CATALOGUE[provider].key_setting if provider in CATALOGUE else None
    return getattr(config, setting) if setting else None


def validate_settings(
    provider: str, settings: dict, prompt: str, public_base_url: str | None = None
) -> ProviderSettings:
    """The validated settings model of ``provider``. Raises :class:`InvalidSettings` for an unknown
    provider, an unknown key, a bad value, a missing prompt where the provider needs one, or no
    ``public_base_url`` for a provider that fetches its inputs by URL."""
    entry = CATALOGUE.get(provider)
    if entry is None:
        known = sorted(CATALOGUE)
        raise InvalidSettings(
            f"unknown provider {provider!r}; known: {', '.join(known)}",
            "unknown_provider",
            {"provider": provider, "known": known},
        )
    if entry.requires_prompt and not prompt.strip():
        raise InvalidSettings(f"provider {provider!r} needs a prompt", "prompt_required", {"provider": provider})
    if entry.requires_public_url and not public_base_url:
        raise InvalidSettings(
            f"provider {provider!r} fetches photos by URL: "
            "set PHOTOCHANGER_PUBLIC_BASE_URL to this server's public address",
            "public_url_required",
            {"provider": provider},
        )
    try:
        return entry.settings_model.model_validate(settings)
    except ValidationError as exc:
        found = [
            {
                "field": ".".join(map(str, e["loc"])) or "settings",
                "rule": "unknown" if e["type"] in ("extra_forbid", "extra_forbidden") else e["type"],
                "message": "unknown setting" if e["type"] in ("extra_forbid", "extra_forbidden") else e["msg"],
                "limit": (e.get("ctx") or {}).get("ge", (e.get("ctx") or {}).get("le")),
            }
            for e in exc.errors()
        ]
        problems = "; ".join(f"{f['field']}: {f['message']}" for f in found)
        raise InvalidSettings(
            f"invalid {provider} settings: {problems}", "invalid_values", {"provider": provider, "problems": found}
        ) from exc
