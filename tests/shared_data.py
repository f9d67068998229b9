"""Where the real WooCommerce payloads and retail datasets live (read-only, never copied in).

The checkout sits beside `shared/` (`../shared` from the repo root); AFTERCARE_SHARED_DIR
overrides that."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("AFTERCARE_SHARED_DIR", REPO_ROOT.parent / "shared"))
WOO_DIR = SHARED_DIR / "data" / "woocommerce"
CAPTURE_DIR = WOO_DIR / "run1-legacy-post-storage"
RETAIL_DIR = SHARED_DIR / "data" / "retail"


def woo_json(name: str) -> Any:
    """A REST v3 object of the real store, e.g. woo_json("order.json")."""
    return json.loads((WOO_DIR / name).read_text())


def captured_deliveries() -> list[tuple[str, dict[str, Any]]]:
    """Every request WooCommerce sent to the receiver, in order: [(filename, capture), …]."""
    return [
        (path.name, json.loads(path.read_text()))
        for path in sorted(CAPTURE_DIR.glob("[0-9][0-9][0-9]-*.json"))
    ]


def captured_webhook_secrets() -> dict[int, str]:
    raw = json.loads((CAPTURE_DIR / "webhook_secrets.json").read_text())
    return {int(k): v for k, v in raw.items()}
