import numpy as np

from campfire_server.knowledge.semantic import Encoder


class CountingModel:
    """A stand-in sentence model that embeds a text by its length and counts calls."""

    def __init__(self):
        self.calls = 0

    def encode(self, texts, **_options):
        self.calls += 1
        return np.array([[float(len(text)), 1.0] for text in texts], dtype=np.float32)


def encoder_with(model, size):
    encoder = Encoder(query_cache_size=size)
    encoder._model = model
    return encoder


def test_repeated_query_encoded_once():
    model = CountingModel()
    encoder = encoder_with(model, 4)
    first = encoder.encode_query("how do I reset my password?")
    second = encoder.encode_query("how do I reset my password?")
    assert model.calls == 1
    assert np.array_equal(first, second)


def test_cached_vector_is_read_only():
    encoder = encoder_with(CountingModel(), 4)
    vector = encoder.encode_query("refund")
    assert not vector.flags.writeable


def test_least_recently_used_query_evicted():
    model = CountingModel()
    encoder = encoder_with(model, 2)
    encoder.encode_query("a")
    encoder.encode_query("b")
    encoder.encode_query("a")
    encoder.encode_query("c")
    assert model.calls == 3
    encoder.encode_query("a")
    assert model.calls == 3
    encoder.encode_query("b")
    assert model.calls == 4


def test_cleared_cache_encodes_query_again():
    model = CountingModel()
    encoder = encoder_with(model, 4)
    encoder.encode_query("refund")
    encoder.clear_query_cache()
    encoder.encode_query("refund")
    assert model.calls == 2
