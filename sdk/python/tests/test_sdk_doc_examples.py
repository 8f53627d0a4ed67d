"""Every code example in the README and in the SDK's docstrings runs against a live server.

An example with a wrong parameter name fails here: the SDK raises
``TypeError`` for an unknown keyword, and the server returns 400 for an
unknown field.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import start_dev_server, stop_dev_server

from campfire import APIError, CampfireClient, ValidationError

README = Path(__file__).resolve().parents[1] / "README.md"
API_KEY_ARGUMENT = re.compile(r"""api_key=(['"])[^'"]*\1""")
INLINE_CODE = re.compile(r"``([^`]+)``")


def readme_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def docstring_examples() -> list[tuple[str, str]]:
    """Return (method, call) for each inline call in a docstring of a resource method.

    A call is an inline code span that parses as a call of the method's own
    name, such as ``create_token(role="agent")`` in ``Auth.create_token``,
    or of another method of the same resource.
    """
    client = CampfireClient(api_key="k", base_url="http://127.0.0.1:9/api/v2")
    examples = []
    for attribute, resource in vars(client).items():
        if attribute.startswith("_"):
            continue
        methods = dict(inspect.getmembers(type(resource), inspect.isfunction))
        for name, method in methods.items():
            for span in INLINE_CODE.findall(inspect.getdoc(method) or ""):
                try:
                    node = ast.parse(span, mode="eval").body
                except SyntaxError:
                    continue
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in methods
                ):
                    examples.append((f"{type(resource).__name__}.{name}", f"{attribute}.{span}"))
    client.close()
    return examples


DOCSTRING_EXAMPLES = docstring_examples()


def test_docstring_examples_found():
    assert (
        "Auth.create_token",
        'auth.create_token(role="agent", subject="agt_1", ttl_seconds=3600)',
    ) in DOCSTRING_EXAMPLES


@pytest.mark.parametrize(
    ("method", "call"), DOCSTRING_EXAMPLES, ids=[m for m, _ in DOCSTRING_EXAMPLES]
)
def test_docstring_example_runs(client, method, call):
    try:
        eval(f"client.{call}", {"client": client})  # noqa: S307 (the SDK's own docstrings)
    except ValidationError as error:
        pytest.fail(f"the example of {method}, {call}, is rejected: {error.message}")


@dataclass(frozen=True)
class FreshOrganization:
    api: str
    key: str


@pytest.fixture
def fresh_organization(tmp_path: Path) -> Iterator[FreshOrganization]:
    """A new organization on a server of its own: one mailbox with AI replies, no articles.

    The organization is made as an operator makes one, with ``campfire orgs
    create``, so the README meets what a new reader's server holds.
    """
    server = start_dev_server(tmp_path)
    try:
        created = subprocess.run(
            [
                os.environ.get("CAMPFIRE_PYTHON") or sys.executable,
                "-m",
                "campfire_server.cli",
                "orgs",
                "create",
                "--name",
                "README reader",
                "--database-url",
                f"sqlite:///{tmp_path / 'campfire.db'}",
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "CAMPFIRE_ENV": "development"},
        )
        key = json.loads(created.stdout)["apiKey"]
        mailbox = httpx.post(
            f"{server.api}/mailboxes",
            json={"name": "Support", "settings": {"autoReply": True}},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert mailbox.status_code == 201, mailbox.text
        yield FreshOrganization(server.api, key)
    finally:
        stop_dev_server(server)


def test_readme_examples_run(fresh_organization, capsys):
    """Run every README block in order, in one namespace, with only the key and base URL changed."""
    blocks = readme_blocks()
    assert len(blocks) >= 6
    namespace: dict = {}
    for number, block in enumerate(blocks, start=1):
        source = API_KEY_ARGUMENT.sub(
            f"api_key='{fresh_organization.key}', base_url='{fresh_organization.api}'", block
        )
        assert ("api_key=" in block) == (source != block)
        try:
            exec(compile(source, f"README python block {number}", "exec"), namespace)  # noqa: S102
        except APIError as error:
            pytest.fail(f"README python block {number} fails: {error.code} {error.message}")
        except TypeError as error:
            pytest.fail(f"README python block {number} fails: {error}")

    printed = capsys.readouterr().out
    # The async block prints the message it sent, the lists block an id per conversation.
    assert "customer Hello" in printed
    assert "conv_" in printed
    assert "NOT_FOUND" in printed
