"""The REST contract of the extension as an OpenAPI document (openapi.json beside this file)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).with_name("openapi.json")


@cache
def openapi_document() -> dict[str, Any]:
    return dict(json.loads(DOCUMENT.read_text()))
