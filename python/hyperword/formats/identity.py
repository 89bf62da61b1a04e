"""Identity: the canonical JSON form of a configuration and its sha256 fingerprint (the same
form serde_json prints in ``rust/core/src/manifest.rs``), and the text of a manifest file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["canonical_json", "fingerprint", "manifest_json", "sorted_json"]


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys (what serde_json's ``json!`` prints): the hashing form."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def fingerprint(identity: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of everything that determines a corpus's bytes."""
    return hashlib.sha256(canonical_json(identity).encode("utf-8")).hexdigest()


def sorted_json(value: Any) -> Any:
    """``value`` with every object's keys sorted, recursively (serde_json's ``Value`` order)."""
    if isinstance(value, Mapping):
        return {k: sorted_json(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [sorted_json(v) for v in value]
    return value


def manifest_json(manifest: Mapping[str, Any]) -> str:
    """The manifest's text: two-space indented JSON and a final newline, like the generator."""
    return json.dumps(manifest, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
