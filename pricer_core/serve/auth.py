"""Who may ask: anyone on this machine by default; from elsewhere, only with a bearer token or an explicit --no-auth.

A server bound to a loopback address answers this machine alone. Binding any other address makes
the model (and whatever it cost to train) reachable from the network, so it needs a token that
clients send as `Authorization: Bearer TOKEN`, or the user saying in so many words that it is open.
"""

from __future__ import annotations

import hmac
import ipaddress

MIN_TOKEN_CHARS = 16


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost; any other name could resolve anywhere, so it is not loopback."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None, no_auth: bool) -> None:
    """ValueError (one line) for a server that would be open to the network by accident, or a guessable token."""
    if token is not None and no_auth:
        raise ValueError("--token and --no-auth contradict each other; give one")
    if token is not None:
        if len(token) < MIN_TOKEN_CHARS:
            raise ValueError(f"--token must have at least {MIN_TOKEN_CHARS} characters (python -c 'import secrets; print(secrets.token_urlsafe())')")
        if not token.isprintable() or any(char.isspace() for char in token):
            raise ValueError("--token must be printable characters without spaces")
    if not is_loopback(host) and token is None and not no_auth:
        raise ValueError(f"--host {host} answers other machines: give --token (or PRICER_SERVE_TOKEN), or --no-auth to serve anyone")


def token_matches(given: str, token: str) -> bool:
    """Whether a client's bearer token is this server's; compared in constant time."""
    return hmac.compare_digest(given.strip().encode("utf-8", "replace"), token.encode())
