"""How pricer reports an error to a person: one line, never a traceback."""

from __future__ import annotations


def short_text(text: object, limit: int = 300) -> str:
    """Text from data or a decoder (field names, messages) as one short line: whitespace runs folded, long text cut."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def one_line(error: BaseException, limit: int = 400) -> str:
    """The error's first line; pricer's own input errors (ValueError) speak for themselves, others get their type."""
    text = (str(error).strip().splitlines() or [""])[0][:limit]
    if isinstance(error, ValueError) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
