"""Three-way merge of profile files: YAML by key, persona files keep local, everything else whole-file."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from profiles.merge import (
    FileMerge,
    Policy,
    aborts_on_conflict,
    merge_file,
    merge_tree,
    merge_yaml,
    policy_for,
)

BASE_CONFIG = """\
model:
  default: gpt-4o
  provider: openai
toolsets:
- web
- terminal
mcp_servers:
  twilight:
    url: http://localhost:8000/mcp
    timeout: 30
"""


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def edit(text: str, change: Any) -> str:
    """Apply a callable to the parsed YAML and return the re-serialised text."""
    data = yaml.safe_load(text)
    change(data)
    return dump(data)


def merge_config(ours: str, theirs: str, base: str | None = BASE_CONFIG) -> FileMerge:
    return merge_file("config.yaml", base, ours, theirs)


def loaded(result: FileMerge) -> Any:
    assert result.text is not None
    return yaml.safe_load(result.text)


# --- YAML by key ---------------------------------------------------------------------------------------------------


def test_disjoint_yaml_edits_on_both_sides_both_survive() -> None:
    ours = edit(BASE_CONFIG, lambda d: d["model"].__setitem__("default", "claude-sonnet"))
    theirs = edit(BASE_CONFIG, lambda d: d["mcp_servers"]["twilight"].__setitem__("timeout", 60))
    result = merge_config(ours, theirs)
    assert result.conflicts == ()
    assert result.how == "merged"
    data = loaded(result)
    assert data["model"]["default"] == "claude-sonnet"
    assert data["mcp_servers"]["twilight"]["timeout"] == 60
    assert data["model"]["provider"] == "openai"


def test_same_key_edited_differently_conflicts_naming_the_key() -> None:
    ours = edit(BASE_CONFIG, lambda d: d["model"].__setitem__("default", "claude-sonnet"))
    theirs = edit(BASE_CONFIG, lambda d: d["model"].__setitem__("default", "deepseek-chat"))
    result = merge_config(ours, theirs)
    assert result.conflicts == ("model.default",)
    assert result.how == "conflict"


def test_nested_key_conflict_names_the_full_path_and_other_edits_do_not_conflict() -> None:
    def ours_change(d: Any) -> None:
        d["mcp_servers"]["twilight"]["url"] = "http://a:8000/mcp"
        d["model"]["provider"] = "anthropic"

    def theirs_change(d: Any) -> None:
        d["mcp_servers"]["twilight"]["url"] = "http://b:8000/mcp"
        d["mcp_servers"]["twilight"]["timeout"] = 90

    result = merge_config(edit(BASE_CONFIG, ours_change), edit(BASE_CONFIG, theirs_change))
    assert result.conflicts == ("mcp_servers.twilight.url",)


def test_identical_edits_on_both_sides_are_fine() -> None:
    def both(d: Any) -> None:
        d["model"]["default"] = "claude-sonnet"

    def both_and_more(d: Any) -> None:
        both(d)
        d["toolsets"].append("browser")

    ours = edit(BASE_CONFIG, both)
    theirs = edit(BASE_CONFIG, both_and_more)
    data = loaded(merge_config(ours, theirs))
    assert data["model"]["default"] == "claude-sonnet"
    assert data["toolsets"] == ["web", "terminal", "browser"]


def test_key_added_on_both_sides_with_the_same_value_is_fine() -> None:
    ours = edit(BASE_CONFIG, lambda d: d.update(memory={"enabled": True}, ours_only=1))
    theirs = edit(BASE_CONFIG, lambda d: d.update(memory={"enabled": True}, theirs_only=2))
    result = merge_config(ours, theirs)
    assert result.conflicts == ()
    data = loaded(result)
    assert data["memory"] == {"enabled": True}
    assert (data["ours_only"], data["theirs_only"]) == (1, 2)


def test_key_added_on_both_sides_with_different_values_conflicts() -> None:
    ours = edit(BASE_CONFIG, lambda d: d.update(memory={"enabled": True}))
    theirs = edit(BASE_CONFIG, lambda d: d.update(memory={"enabled": False}))
    assert merge_config(ours, theirs).conflicts == ("memory.enabled",)


def test_yaml_types_are_told_apart() -> None:
    ours = edit(BASE_CONFIG, lambda d: d.update(flag=1))
    theirs = edit(BASE_CONFIG, lambda d: d.update(flag=True))
    assert merge_config(ours, theirs).conflicts == ("flag",)


def test_key_deleted_on_one_side_and_unchanged_on_the_other_is_deleted() -> None:
    ours = edit(BASE_CONFIG, lambda d: d["mcp_servers"]["twilight"].pop("timeout"))
    theirs = edit(BASE_CONFIG, lambda d: d["model"].__setitem__("provider", "anthropic"))
    result = merge_config(ours, theirs)
    assert result.conflicts == ()
    data = loaded(result)
    assert "timeout" not in data["mcp_servers"]["twilight"]
    assert data["model"]["provider"] == "anthropic"


def test_key_deleted_by_theirs_and_unchanged_by_ours_is_deleted() -> None:
    ours = edit(BASE_CONFIG, lambda d: d["model"].__setitem__("provider", "anthropic"))
    theirs = edit(BASE_CONFIG, lambda d: d.pop("toolsets"))
    data = loaded(merge_config(ours, theirs))
    assert "toolsets" not in data


def test_key_deleted_on_one_side_and_modified_on_the_other_conflicts() -> None:
    ours = edit(BASE_CONFIG, lambda d: d["mcp_servers"]["twilight"].pop("timeout"))
    theirs = edit(BASE_CONFIG, lambda d: d["mcp_servers"]["twilight"].__setitem__("timeout", 60))
    assert merge_config(ours, theirs).conflicts == ("mcp_servers.twilight.timeout",)
    assert merge_config(theirs, ours).conflicts == ("mcp_servers.twilight.timeout",)


def test_lists_are_atomic() -> None:
    ours = edit(BASE_CONFIG, lambda d: d["toolsets"].append("browser"))
    theirs = edit(BASE_CONFIG, lambda d: d["toolsets"].insert(0, "vision"))
    assert merge_config(ours, theirs).conflicts == ("toolsets",)


def test_list_changed_on_one_side_only_is_taken_whole() -> None:
    ours = edit(BASE_CONFIG, lambda d: d["model"].__setitem__("default", "x"))
    theirs = edit(BASE_CONFIG, lambda d: d.__setitem__("toolsets", ["browser"]))
    assert loaded(merge_config(ours, theirs))["toolsets"] == ["browser"]


def test_merged_key_order_is_ours_then_theirs_new_keys() -> None:
    base = "b: 1\na: 1\n"
    ours = "a: 2\nb: 1\nours_new: 1\n"
    theirs = "theirs_new: 1\nb: 3\na: 1\n"
    result = merge_file("x.yml", base, ours, theirs)
    assert result.text == "a: 2\nb: 3\nours_new: 1\ntheirs_new: 1\n"


def test_several_conflicts_are_all_named() -> None:
    ours = edit(BASE_CONFIG, lambda d: (d["model"].update(default="a", provider="a"), d.update(toolsets=[])))
    theirs = edit(BASE_CONFIG, lambda d: (d["model"].update(default="b", provider="b"), d.update(toolsets=["b"])))
    assert merge_config(ours, theirs).conflicts == ("model.default", "model.provider", "toolsets")


def test_merge_yaml_on_parsed_data() -> None:
    merged, conflicts = merge_yaml({"a": {"x": 1}, "b": 1}, {"a": {"x": 2}, "b": 1}, {"a": {"x": 1}, "b": 2, "c": 3})
    assert (merged, conflicts) == ({"a": {"x": 2}, "b": 2, "c": 3}, [])
    _, conflicts = merge_yaml([1], [2], [3])
    assert conflicts == [""]


def test_identical_texts_are_returned_byte_for_byte() -> None:
    text = "# comment kept\nmodel:   {default: x}   # inline\n"
    result = merge_config(text, text)
    assert result.text == text
    assert result.how == "unchanged"


def test_one_sided_yaml_change_keeps_that_sides_text_with_comments() -> None:
    theirs = BASE_CONFIG + "# a comment only theirs has\n"
    result = merge_config(BASE_CONFIG, theirs)
    assert (result.text, result.how) == (theirs, "theirs")


def test_unparsable_yaml_side_conflicts_on_the_whole_file_with_a_clear_message() -> None:
    ours = edit(BASE_CONFIG, lambda d: d["model"].__setitem__("default", "x"))
    theirs = "model: [unclosed\n"
    result = merge_config(ours, theirs)
    assert result.conflicts == ("config.yaml",)
    assert result.how == "conflict"
    assert "theirs is not valid YAML" in result.detail
    assert "line" in result.detail
    assert result.describe_conflicts()[0].startswith("config.yaml: theirs is not valid YAML")


def test_yaml_file_deleted_on_one_side_and_changed_on_the_other_conflicts() -> None:
    ours = edit(BASE_CONFIG, lambda d: d["model"].__setitem__("default", "x"))
    result = merge_file("config.yaml", BASE_CONFIG, ours, None)
    assert result.conflicts == ("config.yaml",)
    assert result.detail == "changed locally, deleted remotely"


def test_yaml_file_added_on_both_sides_merges_by_key() -> None:
    result = merge_file("skills.yaml", None, "a: 1\nshared: 1\n", "b: 2\nshared: 1\n")
    assert loaded(result) == {"a": 1, "shared": 1, "b": 2}
    conflicting = merge_file("skills.yaml", None, "shared: 1\n", "shared: 2\n")
    assert conflicting.conflicts == ("shared",)


# --- persona files and other files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["SOUL.md", "AGENTS.md", "memories/AGENTS.md"])
def test_persona_file_changed_on_both_sides_keeps_ours_and_reports_theirs(path: str) -> None:
    result = merge_file(path, "base\n", "ours\n", "theirs\n")
    assert result.text == "ours\n"
    assert result.kept_local_over == "theirs\n"
    assert result.how == "kept-local"
    assert result.conflicts == ()


def test_persona_file_changed_only_remotely_is_taken() -> None:
    result = merge_file("SOUL.md", "base\n", "base\n", "theirs\n")
    assert (result.text, result.how, result.kept_local_over) == ("theirs\n", "theirs", None)


def test_other_file_changed_differently_on_both_sides_conflicts() -> None:
    result = merge_file("skills/notes.md", "base\n", "ours\n", "theirs\n")
    assert result.conflicts == ("skills/notes.md",)
    assert result.how == "conflict"
    assert result.describe_conflicts() == ("skills/notes.md: changed differently on both sides",)


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "text", "how"),
    [
        ("base\n", "ours\n", "base\n", "ours\n", "ours"),
        ("base\n", "base\n", "theirs\n", "theirs\n", "theirs"),
        (None, None, "added\n", "added\n", "theirs"),
        (None, "added\n", None, "added\n", "ours"),
        ("base\n", None, "base\n", None, "ours"),
        ("base\n", "base\n", None, None, "theirs"),
        ("base\n", "same\n", "same\n", "same\n", "unchanged"),
    ],
)
def test_one_sided_changes_are_taken(
    base: str | None, ours: str | None, theirs: str | None, text: str | None, how: str
) -> None:
    result = merge_file("skills/notes.md", base, ours, theirs)
    assert (result.text, result.how, result.conflicts) == (text, how, ())


def test_other_file_deleted_on_one_side_and_changed_on_the_other_conflicts() -> None:
    assert merge_file("notes.txt", "base\n", None, "changed\n").detail == "deleted locally, changed remotely"


def test_policy_is_a_function_of_the_file_name() -> None:
    assert policy_for("config.yaml") is Policy.YAML_KEYS
    assert policy_for("skills/x.YML") is Policy.YAML_KEYS
    assert policy_for("SOUL.md") is Policy.KEEP_LOCAL
    assert policy_for("sub/AGENTS.md") is Policy.KEEP_LOCAL
    assert policy_for("MYSOUL.md") is Policy.WHOLE_FILE
    assert policy_for(".env") is Policy.WHOLE_FILE
    assert aborts_on_conflict("config.yaml")
    assert aborts_on_conflict("skills/x.yaml")


# --- whole trees ---------------------------------------------------------------------------------------------------


def test_merge_tree_aggregates_conflicts_and_is_not_ok() -> None:
    ours_config = edit(BASE_CONFIG, lambda d: d["model"].__setitem__("default", "a"))
    theirs_config = edit(BASE_CONFIG, lambda d: d["model"].__setitem__("default", "b"))
    base = {"config.yaml": BASE_CONFIG, "SOUL.md": "soul\n", "notes.md": "n\n", "gone.txt": "g\n"}
    ours = {"config.yaml": ours_config, "SOUL.md": "my soul\n", "notes.md": "ours\n", "gone.txt": "g\n"}
    theirs = {"config.yaml": theirs_config, "SOUL.md": "their soul\n", "notes.md": "theirs\n", "new.txt": "new\n"}
    result = merge_tree(base, ours, theirs)
    assert result.conflicts == (
        "config.yaml: model.default",
        "notes.md: changed differently on both sides",
    )
    assert not result.ok
    assert result.file("SOUL.md").kept_local_over == "their soul\n"
    assert result.file("new.txt").text == "new\n"
    assert result.file("gone.txt").text is None
    assert [f.path for f in result.files] == sorted(["config.yaml", "SOUL.md", "notes.md", "gone.txt", "new.txt"])
    with pytest.raises(KeyError):
        result.file("missing")


def test_merge_tree_without_conflicts_is_ok() -> None:
    ours = edit(BASE_CONFIG, lambda d: d["model"].__setitem__("default", "a"))
    theirs = edit(BASE_CONFIG, lambda d: d["model"].__setitem__("provider", "b"))
    result = merge_tree({"config.yaml": BASE_CONFIG}, {"config.yaml": ours}, {"config.yaml": theirs})
    assert result.ok
    assert result.conflicts == ()
    assert loaded(result.file("config.yaml"))["model"] == {"default": "a", "provider": "b"}
