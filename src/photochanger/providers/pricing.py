"""Estimated cost of provider calls in US dollars, from the usage the provider reports.

Prices are the vendors' published list prices per million tokens (Google AI Studio and OpenAI
pricing pages, 2025); they change, and discounts or free tiers are not known here, so treat the
results as estimates for comparing routes, not as invoices. The ``model_prices`` setting
overrides them per model (a ``prices`` mapping of the same shape as :data:`PRICES_PER_MILLION`).
"""

from collections.abc import Mapping
from dataclasses import dataclass

Prices = Mapping[str, tuple[float, float, float]]

# model → (input text, input image, output image) USD per 1M tokens
PRICES_PER_MILLION: dict[str, tuple[float, float, float]] = {
    "gemini-2.5-flash-image": (0.30, 0.30, 30.0),
    "gemini-3-pro-image-preview": (2.0, 2.0, 120.0),
    "gemini-3-pro-image": (2.0, 2.0, 120.0),
    "gemini-3.1-flash-image": (0.50, 0.50, 60.0),
    "gpt-image-1.5": (5.0, 8.0, 32.0),
    "gpt-image-1": (5.0, 10.0, 40.0),
    "gpt-image-1-mini": (2.0, 2.5, 8.0),
}


@dataclass(frozen=True)
class TokenUsage:
    """The tokens a provider reported for one call (to price it again with other prices)."""

    model: str | None
    text_in: int = 0
    image_in: int = 0
    image_out: int = 0


def estimate(
    model: str | None, text_in: int = 0, image_in: int = 0, image_out: int = 0, prices: Prices | None = None
) -> float | None:
    """Dollars for the given token counts at ``prices`` (over the list prices), or None for a
    model without a known price."""
    price = (prices or {}).get(model or "") or PRICES_PER_MILLION.get(model or "")
    if price is None:
        return None
    return round((text_in * price[0] + image_in * price[1] + image_out * price[2]) / 1_000_000, 6)


def reprice(usage: TokenUsage | None, reported: float | None, prices: Prices | None) -> float | None:
    """The cost of a call: ``reported`` (at list prices) unless ``prices`` override its model."""
    if usage is None or not prices or (usage.model or "") not in prices:
        return reported
    return estimate(usage.model, usage.text_in, usage.image_in, usage.image_out, prices)


TYPICAL_INPUT_TOKENS = 1548  # a prompt and one ~1 MP photo (Gemini's usage for a booth photo)
TYPICAL_OUTPUT_TOKENS = 1290  # one 1024×1024 image (Gemini 2.5 Flash Image's fixed count)


def typical_image_cost(model: str | None, prices: Prices | None = None) -> float | None:
    """Dollars one booth photo costs on ``model`` at ``prices`` (over the list prices; the
    estimate a spend cap reserves before a route has history), or None for a model without a
    known price."""
    return estimate(model, image_in=TYPICAL_INPUT_TOKENS, image_out=TYPICAL_OUTPUT_TOKENS, prices=prices)
