import json

import pytest

from campfire_server.assistant import confidence
from campfire_server.assistant.evidence import NO_EVIDENCE
from campfire_server.assistant.trees import LEAF, BoostedTrees, Tree, load

# One split on "coverage" at 0.5: the left leaf lowers the log-odds, the right one raises them.
STUMP = Tree(
    feature=(0, 0, 0),
    threshold=(0.5, -2.0, -2.0),
    left=(1, LEAF, LEAF),
    right=(2, LEAF, LEAF),
    value=(0.0, -2.0, 2.0),
)


def write(tmp_path, data):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_stump_follows_threshold():
    model = BoostedTrees(("coverage",), 0.0, 1.0, (STUMP,))
    low = model.probability({"coverage": 0.2})
    high = model.probability({"coverage": 0.9})
    assert low == pytest.approx(1 / (1 + 2.718281828**2), rel=1e-6)
    assert high == pytest.approx(1 - low, rel=1e-6)


def test_split_value_goes_left():
    model = BoostedTrees(("coverage",), 0.0, 1.0, (STUMP,))
    assert model.probability({"coverage": 0.5}) < 0.5


def test_feature_compared_as_float32():
    # float32(0.1) is 0.10000000149..., above this threshold, so the value goes right
    # as it does in scikit-learn, although the float64 0.1 lies under the threshold.
    stump = Tree(
        feature=(0, 0, 0),
        threshold=(0.1000000001, -2.0, -2.0),
        left=(1, LEAF, LEAF),
        right=(2, LEAF, LEAF),
        value=(0.0, -2.0, 2.0),
    )
    model = BoostedTrees(("coverage",), 0.0, 1.0, (stump,))
    assert model.probability({"coverage": 0.1}) > 0.5


def test_float64_model_compares_float64():
    # The same threshold as above: in float64, 0.1 lies under it and goes left.
    stump = Tree(
        feature=(0, 0, 0),
        threshold=(0.1000000001, -2.0, -2.0),
        left=(1, LEAF, LEAF),
        right=(2, LEAF, LEAF),
        value=(0.0, -2.0, 2.0),
    )
    model = BoostedTrees(("coverage",), 0.0, 1.0, (stump,), precision="float64")
    assert model.probability({"coverage": 0.1}) < 0.5


def test_float64_precision_round_trip(tmp_path):
    model = BoostedTrees(("coverage",), 0.3, 1.0, (STUMP,), precision="float64")
    data = model.to_json()
    assert data["precision"] == "float64"
    assert load(write(tmp_path, data)) == model


def test_float32_file_omits_precision():
    data = BoostedTrees(("coverage",), 0.3, 0.1, (STUMP,)).to_json()
    assert "precision" not in data


def test_unknown_precision_rejected(tmp_path):
    data = BoostedTrees(("coverage",), 0.0, 1.0, (STUMP,)).to_json()
    data["precision"] = "float16"
    with pytest.raises(ValueError, match="unknown precision 'float16'"):
        load(write(tmp_path, data))


def test_json_round_trip(tmp_path):
    model = BoostedTrees(("coverage",), 0.3, 0.1, (STUMP, STUMP))
    loaded = load(write(tmp_path, model.to_json()))
    assert loaded == model


def test_wrong_kind_rejected(tmp_path):
    data = BoostedTrees(("coverage",), 0.0, 1.0, (STUMP,)).to_json()
    data["kind"] = "logistic"
    with pytest.raises(ValueError, match="not a boosted-trees model"):
        load(write(tmp_path, data))


def test_cyclic_tree_rejected(tmp_path):
    data = BoostedTrees(("coverage",), 0.0, 1.0, (STUMP,)).to_json()
    data["trees"][0]["left"] = [0, LEAF, LEAF]
    with pytest.raises(ValueError, match="invalid children"):
        load(write(tmp_path, data))


def test_unknown_split_feature_rejected(tmp_path):
    data = BoostedTrees(("coverage",), 0.0, 1.0, (STUMP,)).to_json()
    data["trees"][0]["feature"] = [3, 0, 0]
    with pytest.raises(ValueError, match="splits on feature 3"):
        load(write(tmp_path, data))


def test_shipped_lexical_model_loads():
    model = confidence.confidence_model("lexical")
    assert isinstance(model, confidence.AverageConfidenceModel)
    kinds = [type(member) for member in model.members]
    assert kinds == [confidence.TreeConfidenceModel, confidence.ConfidenceModel]
    assert confidence.model_path("lexical").exists()
    assert 0.0 <= model.score(NO_EVIDENCE) < 0.2


@pytest.mark.parametrize("mode", ["fused", "semantic"])
def test_shipped_fused_model_loads(mode):
    model = confidence.confidence_model(mode)
    assert isinstance(model, confidence.AverageConfidenceModel)
    kinds = [type(member) for member in model.members]
    assert kinds == [confidence.TreeConfidenceModel, confidence.ConfidenceModel]
    assert confidence.model_path("fused").exists()
    assert 0.0 <= model.score(NO_EVIDENCE) < 0.2


def test_lexical_fallback_is_shipped_logistic_member():
    shipped = confidence.load_model(confidence.model_path("lexical"))
    logistic = shipped.members[1]
    fallback = confidence._MODELS["lexical"]
    assert fallback.weights == pytest.approx(logistic.weights, abs=5e-4)
    assert fallback.bias == pytest.approx(logistic.bias, abs=5e-4)
    assert 0.0 <= fallback.score(NO_EVIDENCE) < 0.2


def test_without_lead_model_loads():
    model = confidence.confidence_model(confidence.WITHOUT_LEAD)
    members = model.members
    assert isinstance(model, confidence.AverageConfidenceModel)
    assert "piece_match_lead" not in members[0].ensemble.features
    assert "piece_match_lead" not in members[1].weights
    assert 0.0 <= model.score(NO_EVIDENCE) < 0.2


def test_fused_fallback_is_shipped_logistic_member():
    shipped = confidence.load_model(confidence.model_path("fused"))
    logistic = shipped.members[1]
    fallback = confidence._MODELS["fused"]
    assert fallback.weights == pytest.approx(logistic.weights, abs=5e-4)
    assert fallback.bias == pytest.approx(logistic.bias, abs=5e-4)


def test_logistic_model_file_loads(tmp_path):
    path = write(
        tmp_path,
        {"kind": "logistic", "features": ["coverage"], "weights": [2.0], "bias": -1.0},
    )
    model = confidence.load_model(path)
    assert model.score(NO_EVIDENCE) == pytest.approx(1 / (1 + 2.718281828), rel=1e-6)


def test_average_model_file_means_members(tmp_path):
    logistic = {"kind": "logistic", "features": ["coverage"], "weights": [0.0], "bias": 0.0}
    trees = BoostedTrees(("coverage",), 0.0, 1.0, (STUMP,)).to_json()
    path = write(tmp_path, {"kind": "average", "members": [logistic, trees]})
    model = confidence.load_model(path)
    low = 1 / (1 + 2.718281828**2)
    assert model.score(NO_EVIDENCE) == pytest.approx((0.5 + low) / 2, rel=1e-6)


def test_model_file_of_unknown_kind_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown model kind 'forest'"):
        confidence.load_model(write(tmp_path, {"kind": "forest"}))


def test_logistic_file_with_unknown_feature_rejected(tmp_path):
    path = write(tmp_path, {"kind": "logistic", "features": ["x"], "weights": [1.0], "bias": 0})
    with pytest.raises(ValueError, match="unknown evidence features"):
        confidence.load_model(path)
