"""The README quick start, which is the API reference's Python example, runs live."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import MAILBOX_ID, TEST_KEY

README = Path(__file__).resolve().parents[1] / "README.md"

# The quick start exactly as the API reference prints it.
REFERENCE_EXAMPLE = """\
from campfire import CampfireClient

client = CampfireClient(api_key='YOUR_API_KEY')

# Create conversation
conversation = client.conversations.create(
    customer_id='customer_123',
    subject='Support Request'
)

# Send message
message = client.messages.create(
    conversation_id=conversation.id,
    content='Hello, I need help',
    author_type='customer'
)
"""


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_quick_start_is_reference_example():
    assert python_blocks(README.read_text())[0] == REFERENCE_EXAMPLE


def test_reference_example_runs(dev_server):
    # Only the key and the base URL change, as for any reader's own server.
    source = REFERENCE_EXAMPLE.replace(
        "CampfireClient(api_key='YOUR_API_KEY')",
        f"CampfireClient(api_key='{TEST_KEY}', base_url='{dev_server.api}')",
    )
    assert source != REFERENCE_EXAMPLE
    namespace: dict = {}
    exec(compile(source, "README quick start", "exec"), namespace)

    conversation = namespace["conversation"]
    message = namespace["message"]
    assert conversation.id.startswith("conv_")
    assert conversation.customer_id == "customer_123"
    assert conversation.subject == "Support Request"
    assert conversation.mailbox_id == MAILBOX_ID
    assert conversation.status == "open"
    assert message.id.startswith("msg_")
    assert message.conversation_id == conversation.id
    assert message.content == "Hello, I need help"
    assert message.author_type == "customer"
    namespace["client"].close()


def test_reference_example_default_base_url():
    from campfire import CampfireClient

    client = CampfireClient(api_key="YOUR_API_KEY")
    assert client.base_url == "http://localhost:3000/api/v2"
