"""Every action a module asks permission for is in the permission table."""

from __future__ import annotations

import re
from pathlib import Path

import campfire_server
from campfire_server.auth.permissions import POLICY

ACTION_CALL = re.compile(r"""(?:require|allowed)\(\s*[\w.]+,\s*["']([a-z_]+:[a-z_]+)["']""")


def test_every_required_action_is_defined():
    package = Path(campfire_server.__file__).parent
    used = {
        action
        for source in package.rglob("*.py")
        for action in ACTION_CALL.findall(source.read_text())
    }

    assert used, "no permission checks were found; the pattern is out of date"
    missing = sorted(used - set(POLICY))
    assert missing == [], f"actions checked but absent from POLICY: {missing}"
