"""Provider registry: names → instances, and validation of a slot's provider settings."""

from pydantic import BaseModel, ValidationError

from photochanger.config import Config
from photochanger.providers.base import Provider
from photochanger.providers.gemini import GeminiProvider
from photochanger.providers.local import LocalProvider
from photochanger.providers.openai_images import OpenAIProvider
from photochanger.providers.turbotext import TurbotextProvider

PROVIDER_CLASSES: dict[str, type] = {
    cls.name: cls for cls in (LocalProvider, GeminiProvider, OpenAIProvider, TurbotextProvider)
}


class InvalidSettings(ValueError):
    """A slot's provider, prompt or settings are not acceptable; the message says why."""


def build_providers(config: Config) -> dict[str, Provider]:
    """One instance per provider, configured from the environment."""
    return {
        "local": LocalProvider(),
        "gemini": GeminiProvider(config.gemini_base_url),
        "openai": OpenAIProvider(config.openai_base_url),
        "turbotext": TurbotextProvider(config.turbotext_base_url, config.turbotext_poll_seconds),
    }


def validate_settings(provider: str, settings: dict, prompt: str, public_base_url: str | None = None) -> BaseModel:
    """The validated settings model of ``provider``. Raises :class:`InvalidSettings` for an unknown
    provider, an unknown key, a bad value, a missing prompt where the provider needs one, or no
    ``public_base_url`` for a provider that fetches its inputs by URL."""
    cls = PROVIDER_CLASSES.get(provider)
    if cls is None:
        raise InvalidSettings(f"unknown provider {provider!r}; known: {', '.join(sorted(PROVIDER_CLASSES))}")
    if cls.requires_prompt and not prompt.strip():
        raise InvalidSettings(f"provider {provider!r} needs a prompt")
    if getattr(cls, "requires_public_url", False) and not public_base_url:
        raise InvalidSettings(
            f"provider {provider!r} fetches photos by URL: "
            "set PHOTOCHANGER_PUBLIC_BASE_URL to this server's public address"
        )
    try:
        return cls.settings_model.model_validate(settings)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: "
            + ("unknown setting" if e["type"] == "extra_forbidden" else e["msg"])
            for e in exc.errors()
        )
        raise InvalidSettings(f"invalid {provider} settings: {problems}") from exc
