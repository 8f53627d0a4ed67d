"""The Location header's path: ids as they are, other segments percent-encoded."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from campfire_server.api.locations import resource_path


def test_ids_are_not_encoded() -> None:
    path = resource_path("conversations", "conv_0Mf3aZ", "messages", "msg_9x.y~z-1")

    assert path == "/api/v2/conversations/conv_0Mf3aZ/messages/msg_9x.y~z-1"


@pytest.mark.parametrize(
    "segment",
    ["a/b", "a b", "50%", "é", "a?b#c", "", "ünïcode-ÿ", "tab\there", "~ok", "A_Z.0-9"],
)
def test_segment_encoded_as_quote(segment: str) -> None:
    assert resource_path("articles", segment) == "/api/v2/articles/" + quote(segment, safe="")
