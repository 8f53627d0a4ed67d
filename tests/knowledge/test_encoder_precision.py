import numpy as np
import pytest

from campfire_server.knowledge.semantic import Encoder, bfloat16_native

torch = pytest.importorskip("torch")


class AutocastRecorder:
    """A stand-in sentence model that records whether bfloat16 autocast was on."""

    def __init__(self):
        self.autocast = []

    def encode(self, texts, **_options):
        enabled = torch.is_autocast_enabled("cpu")
        dtype = torch.get_autocast_dtype("cpu") if enabled else None
        self.autocast.append((enabled, dtype))
        return np.ones((len(texts), 2), dtype=np.float32)


def encoder_with(model, bfloat16):
    encoder = Encoder(bfloat16=bfloat16)
    encoder._model = model
    return encoder


def test_bfloat16_encoder_autocasts_queries_and_passages():
    model = AutocastRecorder()
    encoder = encoder_with(model, True)
    encoder.encode_query("reset password")
    encoder.encode_passages(["How to reset a password"])
    assert model.autocast == [(True, torch.bfloat16), (True, torch.bfloat16)]


def test_float32_encoder_runs_without_autocast():
    model = AutocastRecorder()
    encoder = encoder_with(model, False)
    encoder.encode_query("reset password")
    encoder.encode_passages(["How to reset a password"])
    assert model.autocast == [(False, None), (False, None)]


def test_returned_vectors_stay_float32():
    encoder = encoder_with(AutocastRecorder(), True)
    assert encoder.encode_query("refund").dtype == np.float32
    assert encoder.encode_passages(["Refunds take five days"]).dtype == np.float32


def test_bfloat16_off_without_native_instructions(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert bfloat16_native() is False
    assert Encoder().uses_bfloat16 is False


def test_bfloat16_on_with_avx512_bf16(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert bfloat16_native() is True


def test_bfloat16_on_with_amx(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert bfloat16_native() is True
