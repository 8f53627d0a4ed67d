"""Print the server's OpenAPI document as JSON, built from the code without starting a server.

Usage: python sdk/scripts/openapi.py [OUTPUT]   (stdout when OUTPUT is omitted)
"""

from __future__ import annotations

import json
import sys


def openapi_document() -> dict:
    from campfire_server.app import create_app
    from campfire_server.config import Settings

    # Development settings need no secrets; no database is opened, because the
    # document is built from the routes alone.
    settings = Settings(env="development", database_url="sqlite:///unused-openapi.db")
    return create_app(settings).openapi()


def main(argv: list[str]) -> int:
    text = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    if len(argv) > 1:
        with open(argv[1], "w", encoding="utf-8") as output:
            output.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
