"""A brand's colours: the platform's own look, and the contrast a brand must keep to stay readable."""
from __future__ import annotations

# The platform's own look (static/app.css `:root`); a tenant without a brand shows it.
DEFAULT_PRIMARY, DEFAULT_ACCENT, DEFAULT_TEXT = "#b3261e", "#9c6500", "#ffffff"
PAGE_BACKGROUND = "#ffffff"
MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g_, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g_) + 0.0722 * channel(b)


def contrast_ratio(hex1: str, hex2: str) -> float:
    """WCAG 2 contrast ratio of two `#rrggbb` colours, from 1.0 to 21.0."""
    a, b = sorted((_luminance(hex1.lower()), _luminance(hex2.lower())), reverse=True)
    return (a + 0.05) / (b + 0.05)


def shown_ratio(ratio: float) -> str:
    # Rounded down: 4.47 must not read "4.5:1, below 4.5:1".
    return f"{int(ratio * 10) / 10:.1f}"


def normalise_colour(value: str | None) -> str:
    return (value or "").strip().lower()
