"""The garbage collector settings: parsed from the environment and applied while serving."""

from __future__ import annotations

import gc

import pytest
from pydantic import ValidationError

from campfire_server.app import create_app
from campfire_server.config import DEFAULT_GC_THRESHOLDS, Settings
from campfire_server.db.database import Database
from tests.conftest import test_settings as make_settings


async def test_lifespan_applies_gc_settings(db: Database) -> None:
    before = gc.get_threshold()
    settings = make_settings(db.url, gc_freeze=True, gc_thresholds=[12345, 11, 12])
    application = create_app(settings, db=db)

    async with application.router.lifespan_context(application):
        assert gc.get_threshold() == (12345, 11, 12)
        assert gc.get_freeze_count() > 0

    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_lifespan_keeps_interpreter_gc_when_off(db: Database) -> None:
    before = gc.get_threshold()
    settings = make_settings(db.url, gc_freeze=False, gc_thresholds=[])
    application = create_app(settings, db=db)

    async with application.router.lifespan_context(application):
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0


def test_gc_settings_defaults() -> None:
    settings = Settings()
    assert settings.gc_freeze is True
    assert settings.gc_thresholds == list(DEFAULT_GC_THRESHOLDS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("50000,20,10", [50000, 20, 10]), (" 700, 10 ,10 ", [700, 10, 10]), ("", [])],
)
def test_gc_thresholds_from_environment(
    monkeypatch: pytest.MonkeyPatch, text: str, expected: list[int]
) -> None:
    monkeypatch.setenv("CAMPFIRE_GC_THRESHOLDS", text)
    assert Settings().gc_thresholds == expected


@pytest.mark.parametrize("text", ["700,10", "700,10,10,10", "700,-1,10", "many,10,10"])
def test_gc_thresholds_invalid(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("CAMPFIRE_GC_THRESHOLDS", text)
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert "gc_thresholds" in str(raised.value)
    assert "10000,10,10" in str(raised.value)
