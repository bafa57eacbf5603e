"""Rules parsing, glob matching and the pure removal plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from coldbrew.artifact.inventory import Inventory, bytecode_source
from coldbrew.artifact.plan import plan_removals
from coldbrew.artifact.rules import load_rules, matches, parse_rules
from coldbrew.errors import ConfigurationError

PROJECT_RULES = Path(__file__).resolve().parents[2] / "packaging" / "aws-lambda.toml"

RULES = parse_rules(
    """
[runtime]
requirements = ["numpy==2.0"]
[keep]
paths = ["*.dist-info/METADATA"]
[[remove]]
reason = "never imported"
distributions = ["Huggingface_Hub"]
[[remove]]
reason = "tests"
paths = ["**/tests/**"]
[[remove]]
reason = "host bytecode"
paths = ["**/__pycache__/**", "*.dist-info/*"]
""",
    Path("rules.toml"),
)


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("numpy/tests/test_a.py", "**/tests/**", True),
        ("tests/x.py", "**/tests/**", True),
        ("numpy/_core/tests/deep/x.py", "**/tests/**", True),
        ("numpy/testsuite/x.py", "**/tests/**", False),
        ("a/__pycache__/b.cpython-311.pyc", "**/__pycache__/**", True),
        ("onnxruntime/capi/libonnxruntime.so.1.32.0", "onnxruntime/capi/libonnxruntime.so*", True),
        (
            "onnxruntime/capi/libonnxruntime_providers_shared.so",
            "onnxruntime/capi/libonnxruntime.so*",
            False,
        ),
        ("x.dist-info/METADATA", "*.dist-info/METADATA", True),
        ("a/x.dist-info/METADATA", "*.dist-info/METADATA", False),
    ],
)
def test_glob_semantics(path: str, pattern: str, expected: bool) -> None:
    assert matches(path, (pattern,)) is expected


def test_plan_gives_every_removal_its_reason() -> None:
    sizes = {
        "huggingface_hub/__init__.py": 10,
        "huggingface_hub-1.0.dist-info/METADATA": 5,
        "numpy/__init__.py": 100,
        "numpy/tests/test_x.py": 7,
        "numpy/__pycache__/x.cpython-311.pyc": 3,
        "numpy-2.0.dist-info/METADATA": 4,
        "numpy-2.0.dist-info/RECORD": 2,
    }
    owners = {
        "huggingface_hub/__init__.py": "huggingface-hub",
        "huggingface_hub-1.0.dist-info/METADATA": "huggingface-hub",
        "numpy/__init__.py": "numpy",
    }
    plan = plan_removals(sizes, owners, RULES)
    reasons = {r.path: r.reason for r in plan.removals}
    assert reasons == {
        # a removed distribution goes whole: its kept-by-glob METADATA too
        "huggingface_hub/__init__.py": "never imported",
        "huggingface_hub-1.0.dist-info/METADATA": "never imported",
        "numpy/tests/test_x.py": "tests",
        "numpy/__pycache__/x.cpython-311.pyc": "host bytecode",
        "numpy-2.0.dist-info/RECORD": "host bytecode",
    }
    assert plan.bytes_by_reason() == {
        "never imported": (2, 15),
        "tests": (1, 7),
        "host bytecode": (2, 5),
    }


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[runtime]\nrequirements = []", "'requirements' must list"),
        ('[runtime]\nrequirements = ["a"]\n[[remove]]\npaths = ["x"]', "needs a 'reason'"),
        (
            '[runtime]\nrequirements = ["a"]\n[[remove]]\nreason = "r"',
            "give 'paths' or 'distributions'",
        ),
        (
            '[runtime]\nrequirements = ["a"]\n[[remove]]\nreason = "r"\npath = ["x"]',
            "unknown key(s) ['path']",
        ),
        ('[runtime]\nrequirements = ["a"]\n[removes]\n', "unknown table(s) ['removes']"),
        ("[runtime\n", "not valid TOML"),
        ('[runtime]\nrequirements = "numpy"', "must be a list of strings"),
    ],
)
def test_bad_rules_name_file_and_problem(text: str, needle: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_rules(text, Path("packaging/bad.toml"))
    assert "packaging/bad.toml" in caught.value.message
    assert needle in caught.value.message


def test_missing_rules_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="rules file not found"):
        load_rules(tmp_path / "nope.toml")


def test_project_rules_parse_and_pin_versions() -> None:
    rules = load_rules(PROJECT_RULES)
    assert all("==" in r for r in rules.requirements)
    assert {r.split("==")[0] for r in rules.requirements} == {"numpy", "onnxruntime", "tokenizers"}
    assert "runtime/*.py" in rules.ship


def test_bytecode_counts_with_its_source() -> None:
    assert bytecode_source("a/b/__pycache__/c.cpython-312.pyc") == "a/b/c.py"
    assert bytecode_source("a/b/c.py") == "a/b/c.py"
    inventory = Inventory(
        {"numpy/__pycache__/x.cpython-312.pyc": 3, "model/model.onnx": 9, "lambda_function.py": 1},
        {"numpy/x.py": "numpy"},
    )
    assert inventory.sizes_by_package() == {"numpy": (1, 3), "(model)": (1, 9), "(handler)": (1, 1)}


def test_extends_adds_removals_and_keeps_to_the_base(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(
        '[runtime]\nrequirements = ["a==1"]\n[ship]\ncoldbrew = ["runtime/*.py"]\n'
        '[keep]\npaths = ["LICENSE"]\n'
        '[[remove]]\nreason = "base reason"\npaths = ["**/tests/**"]\n'
        '[prune]\nkeep = ["handler.py"]\n'
    )
    (tmp_path / "child.toml").write_text(
        'extends = "base.toml"\n'
        '[[remove]]\nreason = "child reason"\npaths = ["**/*.md"]\n'
        '[prune]\nkeep = ["main.py"]\n'
    )
    rules = load_rules(tmp_path / "child.toml")
    assert rules.requirements == ("a==1",) and rules.ship == ("runtime/*.py",)
    assert [r.reason for r in rules.remove] == ["base reason", "child reason"]
    assert rules.keep == ("LICENSE",)
    assert rules.prune_keep == ("handler.py", "main.py")
    # Both files are build inputs: a change to the base rebuilds the child's artifacts.
    assert rules.files == (tmp_path / "child.toml", tmp_path / "base.toml")


def test_extends_child_runtime_replaces_the_base(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text('[runtime]\nrequirements = ["a==1"]\n')
    (tmp_path / "child.toml").write_text(
        'extends = "base.toml"\n[runtime]\nrequirements = ["b==2"]\n'
    )
    assert load_rules(tmp_path / "child.toml").requirements == ("b==2",)


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        ({"child.toml": 'extends = "nowhere.toml"\n'}, "rules file not found: "),
        ({"child.toml": "extends = 3\n"}, "'extends' must be a rules file name"),
        (
            {"child.toml": 'extends = "base.toml"\n', "base.toml": 'extends = "child.toml"\n'},
            "'extends' makes a cycle",
        ),
    ],
)
def test_bad_extends_is_named(tmp_path: Path, files: dict[str, str], needle: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(ConfigurationError, match=needle) as caught:
        load_rules(tmp_path / "child.toml")
    assert "child.toml" in str(caught.value)


def test_gcf_rules_are_the_lambda_rules_plus_its_entry_point() -> None:
    packaging = Path(__file__).resolve().parents[2] / "packaging"
    gcf, lam = load_rules(packaging / "gcf.toml"), load_rules(packaging / "aws-lambda.toml")
    assert gcf.requirements == lam.requirements and gcf.ship == lam.ship
    assert gcf.remove == lam.remove
    assert {"main.py", "requirements.txt"} <= set(gcf.prune_keep)


def test_parse_rules_refuses_extends_without_its_base(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="use load_rules"):
        parse_rules('extends = "x.toml"\n', tmp_path / "child.toml")
