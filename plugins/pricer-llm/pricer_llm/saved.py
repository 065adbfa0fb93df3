"""What an LLM plugin's model folder may hold, and the checks that refuse anything else.

A model folder can come from anyone, so it holds data only: the model choice and sampling settings,
neighbour texts, prices and vectors. It never names a server (no base URL: a key and the item
texts would follow it) or a file outside itself (no cache path). Those come from this run. Reading
refuses a forbidden, unknown, missing or mistyped key with one line naming the file and the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# Keys older versions wrote; a folder holding them is refused, never trusted.
FORBIDDEN = {
    "api_base": "a saved folder never chooses the server; pass it in this run (--set NAME.api_base=URL or PRICER_LLM_API_BASE)",
    "base_url": "a saved folder never chooses the server; pass it in this run (--set NAME.api_base=URL or PRICER_LLM_API_BASE)",
    "cache_path": "a saved folder never chooses a file outside itself; pass it in this run (--set NAME.cache_path=PATH)",
}
# provider/model segments such as groq/openai/gpt-oss-20b or ft:gpt-4.1-nano:org:pricer:id; no URL, no "..".
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+-]*(?:/[A-Za-z0-9][A-Za-z0-9._:@+-]*)*")
REASONING_EFFORTS = (None, "minimal", "low", "medium", "high")


def model_name(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 200 and MODEL_NAME.fullmatch(value) is not None


def boolean(value: Any) -> bool:
    return isinstance(value, bool)


def positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1_000_000


def temperature(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 2


def reasoning_effort(value: Any) -> bool:
    return value in REASONING_EFFORTS


def texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(text, str) for text in value)


Check = Callable[[Any], bool]
# What an `llm` / `llm-rag` config.json holds (every key, always).
CHAT_KEYS: dict[str, Check] = {
    "model": model_name,
    "own_server": boolean,  # true: the model lived on a server of the user's; this run says which one
    "structured": boolean,
    "max_tokens": positive_int,
    "temperature": temperature,
    "reasoning_effort": reasoning_effort,
}
RAG_KEYS: dict[str, Check] = {**CHAT_KEYS, "k": positive_int}
KNN_KEYS: dict[str, Check] = {"k": positive_int, "texts": texts}


def read_config(path: Path, schema: dict[str, Check]) -> dict[str, Any]:
    """config.json as a dict with exactly the schema's keys, each passing its check; ValueError otherwise."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: missing; not a folder written by this plugin") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(config).__name__}")
    for key in config:
        if key in FORBIDDEN:
            raise ValueError(f"{path}: key {key!r} refused: {FORBIDDEN[key]}")
    unknown = sorted(set(config) - set(schema))
    if unknown:
        raise ValueError(f"{path}: unknown key {unknown[0]!r}; a folder of this kind holds only {sorted(schema)}")
    missing = sorted(set(schema) - set(config))
    if missing:
        raise ValueError(f"{path}: key {missing[0]!r} is missing")
    for key, check in schema.items():
        if not check(config[key]):
            raise ValueError(f"{path}: key {key!r} has an invalid value {str(config[key])[:80]!r}")
    return config


def write_config(path: Path, config: dict[str, Any], schema: dict[str, Check]) -> None:
    """Write only what `read_config` accepts, so a folder this code saves always loads."""
    if set(config) != set(schema):
        raise ValueError(f"{path}: keys {sorted(config)} do not match {sorted(schema)}")
    for key, check in schema.items():
        if not check(config[key]):
            raise ValueError(f"cannot save {key}={str(config[key])[:80]!r} into {path}: a folder could not be loaded back")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config), encoding="utf-8")


def read_arrays(path: Path, shapes: dict[str, int]) -> dict[str, np.ndarray]:
    """Numeric arrays from an .npz, never pickled objects; `shapes` gives each array's number of dimensions."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if set(archive.files) != set(shapes):
                raise ValueError(f"{path}: expected arrays {sorted(shapes)}, found {sorted(archive.files)}")
            arrays = {name: archive[name] for name in shapes}
    except FileNotFoundError:
        raise ValueError(f"{path}: missing; not a folder written by this plugin") from None
    except ValueError as error:  # object arrays (pickles) land here too
        raise ValueError(str(error) if str(error).startswith(str(path)) else f"{path}: {error}") from None
    except Exception as error:  # not a zip, truncated, ...
        raise ValueError(f"{path}: unreadable ({type(error).__name__}: {error})") from None
    for name, dimensions in shapes.items():
        array = arrays[name]
        if array.ndim != dimensions or array.dtype.kind not in "fiu":
            raise ValueError(f"{path}: array {name!r} must be {dimensions}-D numbers, got {array.ndim}-D {array.dtype}")
    return arrays
