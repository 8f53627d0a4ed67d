import re

import numpy as np

from campfire_server.knowledge.semantic import Encoder, clip_to_tokens


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


class WordTokenizer:
    """A stand-in tokenizer: one token per word, plus a start and an end token."""

    def __call__(self, text, *, truncation, max_length, return_offsets_mapping):
        spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
        spans = [(0, 0), *spans[: max_length - 2], (0, 0)]
        return {"input_ids": list(range(len(spans))), "offset_mapping": spans}


def test_long_query_clipped_to_token_limit():
    clipped = clip_to_tokens(WordTokenizer(), "one two three four five six", 5)
    assert clipped == "one two three"


def test_short_query_kept_whole():
    assert clip_to_tokens(WordTokenizer(), "one two", 5) == "one two"


def test_query_without_tokenizer_kept_whole():
    assert clip_to_tokens(None, "one two three four five six", 5) == "one two three four five six"
