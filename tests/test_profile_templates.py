"""Profile templates: listing, applying (placeholders, secrets, .gitignore), refusing, and round trips."""

from __future__ import annotations

import compileall
import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from profiles import cron_jobs, rendering, secret_schema, shipped_plugins
from profiles.envfile import read_env
from profiles.registry import Registry
from profiles.rendering import TemplateError, render_text
from profiles.templates import TEMPLATES_DIR, apply, create_from, list_templates

PLUGIN = shipped_plugins.PLUGINS_DIR / "twilight_verify"
TOOLS = ("price", "fundamentals", "warehouse_daily", "warehouse_features", "warehouse_fundamentals", "quality_status",
         "quality_logs", "search", "ping", "verify_answer", "lookup", "chart")  # fmt: skip
SHIPPED = {"template-stock-research-pro": 2, "template-stock-research-lite": 1, "template-crypto": 1}
PLACEHOLDERS = {"PROFILE_NAME", "MCP_URL", "LLM_GATEWAY_URL", "LLM_MODEL", "WORKSPACE"}
VALUES = {"MCP_URL": "https://drive.example.cn/mcp", "LLM_GATEWAY_URL": "http://127.0.0.1:3000/v1",
          "LLM_MODEL": "deepseek-chat"}  # fmt: skip
POOLS = {"llm": ["sk-pool-first-0123456789", "sk-pool-second-0123456789"]}


def files_of(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def plugin_files_of(folder: Path) -> dict[str, str]:
    """A plugin folder's files as hermes loads them (bytecode left out), by path inside the folder."""
    root = folder / "plugins" / "twilight_verify" if (folder / "config.yaml").exists() else folder
    return {name: text for name, text in files_of(root).items() if "__pycache__" not in name}


def copy_of(name: str, where: Path) -> Path:
    """A shipped template copied out, to be changed by a test."""
    return Path(shutil.copytree(TEMPLATES_DIR / name, where / name))


def workdirs(profile: Path) -> list[str]:
    return [job["workdir"] for job in json.loads((profile / "crontab.json").read_text())]


def config_of(profile: Path) -> dict[str, Any]:
    body = yaml.safe_load((profile / "config.yaml").read_text())
    assert isinstance(body, dict)
    return body


def test_list_shows_the_three_templates_with_their_placeholders_secrets_and_jobs() -> None:
    found = {t.name: t for t in list_templates()}
    assert set(found) == set(SHIPPED)
    for name, jobs in SHIPPED.items():
        info = found[name]
        assert info.path == TEMPLATES_DIR / name
        assert info.placeholders == PLACEHOLDERS
        assert info.secrets == {"TWILIGHT_API_TOKEN": "generated", "TWILIGHT_LLM_API_KEY": "pool:llm",
                                "API_SERVER_KEY": "generated"}  # fmt: skip
        assert info.cron_jobs == jobs


def test_list_skips_directories_that_are_not_templates(tmp_path: Path) -> None:
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "config.yaml").write_text("model: {}\n")  # a profile, not a template
    assert list_templates(tmp_path) == []
    assert list_templates(tmp_path / "missing") == []


def test_apply_twice_makes_two_profiles_without_collision(tmp_path: Path) -> None:
    template = TEMPLATES_DIR / "template-stock-research-pro"
    alice = apply(template, tmp_path / "alice", VALUES, POOLS, pick=0)
    bob = apply(template, tmp_path / "bob", VALUES, POOLS, pick=1)
    assert (alice.name, alice.path, bob.name) == ("alice", tmp_path / "alice", "bob")
    assert alice.secrets_planted == ["API_SERVER_KEY", "TWILIGHT_API_TOKEN", "TWILIGHT_LLM_API_KEY"]
    assert alice.placeholders_filled == sorted(PLACEHOLDERS)
    envs = []
    for applied, key in ((alice, POOLS["llm"][0]), (bob, POOLS["llm"][1])):
        home = applied.path
        rendered = {name: text for name, text in files_of(home).items() if not name.startswith("plugins/")}
        assert all("{{" not in text and "}}" not in text for text in rendered.values())  # plugins: code, verbatim
        config = config_of(home)
        assert config["mcp_servers"]["twilight"]["url"] == VALUES["MCP_URL"]
        assert config["mcp_servers"]["twilight"]["headers"]["Authorization"] == "Bearer ${TWILIGHT_API_TOKEN}"
        assert config["model"] == {"provider": "custom", "default": "deepseek-chat",
                                   "base_url": VALUES["LLM_GATEWAY_URL"], "api_key": "${TWILIGHT_LLM_API_KEY}",
                                   "context_length": 131072}  # fmt: skip
        assert config["terminal"]["cwd"] == str(home / "workspace")
        assert config["platform_toolsets"] == {"weixin": ["twilight"], "api_server": ["twilight"]}
        assert config["security"] == {"tirith_enabled": False, "allow_lazy_installs": False}
        assert config["plugins"] == {"enabled": ["twilight_verify"]}
        assert plugin_files_of(home) == plugin_files_of(PLUGIN)  # one copy, from the package
        assert (home / "workspace" / "AGENTS.md").read_text() == (template / "AGENTS.md").read_text()
        assert (home / "SOUL.md").read_text() == (template / "SOUL.md").read_text()
        assert workdirs(home) == [str(home / "workspace")] * 2
        assert stat.S_IMODE((home / ".env").stat().st_mode) == 0o600
        env = read_env(home / ".env")
        assert set(env) == {"TWILIGHT_API_TOKEN", "TWILIGHT_LLM_API_KEY", "API_SERVER_KEY"}
        assert env["TWILIGHT_LLM_API_KEY"] == key
        assert env["TWILIGHT_API_TOKEN"].startswith("td_") and len(env["TWILIGHT_API_TOKEN"]) > 40
        assert ".env" in (home / ".gitignore").read_text().splitlines()
        assert "!.env.example" in (home / ".gitignore").read_text().splitlines()
        committed = {name: text for name, text in files_of(home).items() if name != ".env"}
        assert not [v for v in secret_schema.secret_values(home) for text in committed.values() if v in text]
        envs.append(env)
    assert envs[0]["TWILIGHT_API_TOKEN"] != envs[1]["TWILIGHT_API_TOKEN"]
    assert envs[0]["API_SERVER_KEY"] != envs[1]["API_SERVER_KEY"]
    assert not list(tmp_path.glob(".*"))  # no staging directory left behind


def test_apply_every_shipped_template(tmp_path: Path) -> None:
    for name, jobs in SHIPPED.items():
        applied = apply(TEMPLATES_DIR / name, tmp_path / name, VALUES, POOLS)
        assert config_of(applied.path)["timezone"] == "Asia/Shanghai"
        assert len(json.loads((applied.path / "crontab.json").read_text())) == jobs


def test_apply_into_an_empty_directory_works_but_a_non_empty_one_is_refused(tmp_path: Path) -> None:
    template = TEMPLATES_DIR / "template-stock-research-lite"
    (tmp_path / "empty").mkdir()
    assert apply(template, tmp_path / "empty", VALUES, POOLS).path == tmp_path / "empty"
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(TemplateError, match="not empty; choose another profile name"):
        apply(template, tmp_path / "taken", VALUES, POOLS)
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]
    with pytest.raises(TemplateError, match="not empty"):
        apply(template, tmp_path / "empty", VALUES, POOLS)  # now a profile


def test_a_missing_value_names_every_unfilled_placeholder_and_the_file(tmp_path: Path) -> None:
    values = {"LLM_GATEWAY_URL": VALUES["LLM_GATEWAY_URL"]}
    with pytest.raises(TemplateError) as caught:
        apply(TEMPLATES_DIR / "template-crypto", tmp_path / "carol", values, POOLS)
    message = str(caught.value)
    assert "{{LLM_MODEL}}" in message and "{{MCP_URL}}" in message
    assert "template-crypto/config.yaml.template" in message
    assert "LLM_GATEWAY_URL" not in message
    assert not (tmp_path / "carol").exists()


@pytest.mark.parametrize(
    "text", ["url: {{ lower-case }}", "url: {{}}", "url: {{MCP_URL", "url: MCP_URL}}", "url: {{{MCP_URL}}}",
             "url: {{mcp_url}}", "a: {{A}}\nb: {{ B }}"],
)  # fmt: skip
def test_malformed_placeholder_syntax_is_refused(text: str) -> None:
    with pytest.raises(TemplateError, match="malformed placeholder syntax"):
        render_text(text, {"MCP_URL": "x", "A": "1", "B": "2", "mcp_url": "x"}, source="config.yaml.template")


def test_malformed_placeholder_in_a_template_stops_apply(tmp_path: Path) -> None:
    template = tmp_path / "template-broken"
    template.mkdir()
    for source in (TEMPLATES_DIR / "template-crypto").iterdir():
        (template / source.name).write_text(source.read_text())
    text = (template / "config.yaml.template").read_text().replace("{{LLM_MODEL}}", "{{ llm_model }}")
    (template / "config.yaml.template").write_text(text)
    with pytest.raises(TemplateError, match=r"template-broken/config.yaml.template: malformed.*line \d+"):
        apply(template, tmp_path / "dave", VALUES, POOLS)
    assert not (tmp_path / "dave").exists()


def test_extra_values_are_allowed_and_placeholders_filled() -> None:
    assert render_text("url: {{A}}\n", {"A": "x", "UNUSED": "y"}, source="t.yaml") == "url: x\n"
    assert rendering.placeholders("{{A}} {{B_2}} {{ c }} {{A}}") == {"A", "B_2"}


def test_rendered_config_must_parse_and_values_must_be_one_line() -> None:
    with pytest.raises(TemplateError, match="does not parse"):
        render_text('model: "{{M}}"\n', {"M": 'a"b'}, source="config.yaml.template")
    with pytest.raises(TemplateError, match="single line"):
        render_text("model: {{M}}\n", {"M": "a\nsecurity: {}"}, source="config.yaml.template")
    with pytest.raises(TemplateError, match="does not parse"):
        render_text('{"workdir": "{{W}}"}', {"W": 'a"b'}, source="crontab.json")


@pytest.mark.parametrize("pools", [{}, {"llm": []}, {"other": ["sk-x"]}])
def test_a_missing_pool_is_refused_naming_pool_and_secret(tmp_path: Path, pools: dict[str, list[str]]) -> None:
    with pytest.raises(TemplateError, match=r"TWILIGHT_LLM_API_KEY is taken from the 'llm' pool"):
        apply(TEMPLATES_DIR / "template-stock-research-pro", tmp_path / "erin", VALUES, pools)
    assert list(tmp_path.iterdir()) == []


def test_pick_takes_the_pool_keys_in_turn(tmp_path: Path) -> None:
    applied = apply(TEMPLATES_DIR / "template-crypto", tmp_path / "p", VALUES, POOLS, pick=3)
    assert read_env(applied.path / ".env")["TWILIGHT_LLM_API_KEY"] == POOLS["llm"][1]


def test_create_from_round_trip_leaves_every_secret_out(tmp_path: Path) -> None:
    alice = apply(TEMPLATES_DIR / "template-stock-research-pro", tmp_path / "profiles" / "alice", VALUES, POOLS).path
    (alice / "SOUL.md").write_text((alice / "SOUL.md").read_text() + "\nAlice prefers banks.\n")
    secrets = secret_schema.secret_values(alice)
    assert len(secrets) == 3
    made = create_from(alice, "template-alice", tmp_path / "templates")
    assert made == tmp_path / "templates" / "template-alice"
    new = files_of(made)
    assert set(new) == {"config.yaml.template", "crontab.json", "SOUL.md", "AGENTS.md", "secrets.schema.json",
                        ".env.example"}  # fmt: skip
    assert not [(name, v) for name, text in new.items() for v in secrets if v in text]
    assert str(alice) not in new["config.yaml.template"] + new["crontab.json"]
    assert '"{{WORKSPACE}}"' in new["config.yaml.template"] and '"{{PROFILE_NAME}}"' in new["config.yaml.template"]
    assert json.loads(new["secrets.schema.json"]) == json.loads(
        (TEMPLATES_DIR / "template-stock-research-pro" / "secrets.schema.json").read_text()
    )
    assert new["SOUL.md"].endswith("Alice prefers banks.\n")
    [info] = list_templates(tmp_path / "templates")
    assert (info.name, info.cron_jobs, set(info.placeholders)) == ("template-alice", 2, {"PROFILE_NAME", "WORKSPACE"})

    carol = apply(made, tmp_path / "profiles" / "carol", {}, POOLS, pick=1).path
    config = config_of(carol)
    assert config["terminal"]["cwd"] == str(carol / "workspace")
    assert config["mcp_servers"]["twilight"]["url"] == VALUES["MCP_URL"]  # kept from alice's profile
    assert '"carol"' in (carol / "config.yaml").read_text().splitlines()[0]
    assert workdirs(carol) == [str(carol / "workspace")] * 2
    old, fresh = read_env(alice / ".env"), read_env(carol / ".env")
    assert all(fresh[key] != old[key] for key in ("TWILIGHT_API_TOKEN", "API_SERVER_KEY"))  # generated anew
    with pytest.raises(TemplateError, match="already exists"):
        create_from(alice, "template-alice", tmp_path / "templates")


def test_create_from_skips_settings_and_refuses_a_leaked_secret(tmp_path: Path) -> None:
    alice = apply(TEMPLATES_DIR / "template-crypto", tmp_path / "alice", VALUES, POOLS).path
    env = (alice / ".env").read_text() + "API_SERVER_ENABLED=true\nAPI_SERVER_PORT=8642\n"
    (alice / ".env").write_text(env)
    made = create_from(alice, "template-x", tmp_path / "t")
    assert set(json.loads((made / "secrets.schema.json").read_text())) == {
        "TWILIGHT_API_TOKEN", "TWILIGHT_LLM_API_KEY", "API_SERVER_KEY"}  # fmt: skip
    assert "API_SERVER_PORT: a per-host setting" in (made / ".env.example").read_text()
    token = read_env(alice / ".env")["TWILIGHT_API_TOKEN"]
    (alice / "workspace" / "AGENTS.md").write_text(f"my token is {token}\n")
    with pytest.raises(TemplateError, match=r"AGENTS\.md of .* hold a value of its \.env"):
        create_from(alice, "template-y", tmp_path / "t")
    assert not (tmp_path / "t" / "template-y").exists()


def test_each_shipped_crontab_validates_against_the_documented_job_fields() -> None:
    for name, count in SHIPPED.items():
        jobs = cron_jobs.load_jobs(TEMPLATES_DIR / name / "crontab.json")
        assert len(jobs) == count
        for job in jobs:
            assert set(job) <= set(cron_jobs.JOB_FIELDS)
            assert all(job[key] for key in cron_jobs.REQUIRED_JOB_FIELDS)
            assert cron_jobs.cron_expression_errors(job["schedule"]) == []
            assert job["enabled_toolsets"] == ["twilight"] and job["workdir"] == "{{WORKSPACE}}"
    pro = cron_jobs.load_jobs(TEMPLATES_DIR / "template-stock-research-pro" / "crontab.json")
    schedules = [job["schedule"] for job in pro]
    assert schedules == ["30 8 * * 1-5", "30 15 * * 1-5"]


@pytest.mark.parametrize(
    ("job", "problem"),
    [({"name": "a", "schedule": "30 8 * * MON-FRI", "prompt": "p"}, "no names like MON"),
     ({"name": "a", "schedule": "60 8 * * 1-5", "prompt": "p"}, "minute '60' is not valid: values 0-59"),
     ({"name": "a", "schedule": "30 8 * *", "prompt": "p"}, "has 4 fields"),
     ({"name": "a", "schedule": "30 8 * * 5-1", "prompt": "p"}, "weekday '5-1' is not valid"),
     ({"name": "a", "schedule": "*/0 8 * * *", "prompt": "p"}, "steps above 0"),
     ({"name": "a", "schedule": "30 8 * * *"}, "'prompt' is required"),
     ({"name": "a", "schedule": "30 8 * * *", "prompt": "p", "id": "x"}, "'id' is not a job field"),
     ({"name": "a", "schedule": "30 8 * * *", "prompt": "p", "workdir": "ws"}, "must be an absolute path"),
     ({"name": "a", "schedule": "30 8 * * *", "prompt": "p", "enabled_toolsets": "twilight"}, "must be list"),
     ({"name": "a", "schedule": "30 8 * * *", "prompt": "p", "repeat": True}, "'repeat' must be int")],
)  # fmt: skip
def test_invalid_jobs_are_refused(job: dict[str, Any], problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        cron_jobs.validate_jobs([job], source="crontab.json")


def test_duplicate_job_names_and_non_lists_are_refused() -> None:
    job = {"name": "a", "schedule": "30 8 * * 1-5", "prompt": "p"}
    with pytest.raises(TemplateError, match="name used twice"):
        cron_jobs.validate_jobs([job, job], source="crontab.json")
    with pytest.raises(TemplateError, match="must be a JSON list"):
        cron_jobs.validate_jobs({"jobs": [job]}, source="crontab.json")


def test_shipped_texts_say_what_the_brief_asks() -> None:
    for name in SHIPPED:
        agents = (TEMPLATES_DIR / name / "AGENTS.md").read_text()
        assert "cite.tool_call_id" in agents and "Never estimate" in agents
        example = read_env(TEMPLATES_DIR / name / ".env.example")
        assert example == dict.fromkeys(list_templates()[0].secrets, "")
    assert "do not cover crypto prices" in (TEMPLATES_DIR / "template-crypto" / "SOUL.md").read_text()
    assert "citation" in (TEMPLATES_DIR / "template-stock-research-pro" / "SOUL.md").read_text()


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_soul_asks_for_a_text_line_beside_every_chart(name: str) -> None:
    """WeChat's picture upload can fail (getuploadurl ret -2): the chart's caption must reach the user anyway."""
    charts = (TEMPLATES_DIR / name / "SOUL.md").read_text().split("## Charts", 1)[1]
    assert "one-line text summary beside it" in charts and "`caption`" in charts and "ret -2" in charts


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_agents_md_names_every_tool_and_has_the_draft_checked_first(name: str) -> None:
    agents = (TEMPLATES_DIR / name / "AGENTS.md").read_text()
    listed = re.findall(r"`(\w+)\(", agents.split("## Tools", 1)[1].split("\n## ", 1)[0])
    assert sorted(listed) == sorted(TOOLS)  # each tool once, with how it is called
    check = agents.split("## Check", 1)[1].split("\n## ", 1)[0]
    assert "Before you send" in check or "before sending" in check
    assert "`verify_answer`" in check and "`citable`" in check and "⚠️" in check
    assert "mcp__twilight__<name>" in agents  # what hermes calls them


def test_the_pro_soul_says_news_comes_from_search_with_sources_and_rumours_stay_rumours() -> None:
    soul = (TEMPLATES_DIR / "template-stock-research-pro" / "SOUL.md").read_text()
    assert "your tools do not provide them" not in soul
    assert "`search`" in soul and "URL" in soul and "date" in soul
    assert "never present a rumour" in soul


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_applied_profile_has_the_verify_plugin_in_place_and_enabled(name: str, tmp_path: Path) -> None:
    home = apply(TEMPLATES_DIR / name, tmp_path / "p", VALUES, POOLS).path
    assert plugin_files_of(home) == plugin_files_of(PLUGIN)
    assert set(plugin_files_of(home)) == {"plugin.yaml", "__init__.py", "client.py", "marking.py"}
    manifest = yaml.safe_load((home / "plugins" / "twilight_verify" / "plugin.yaml").read_text())
    assert manifest["name"] == "twilight_verify" and manifest["provides_hooks"] == ["transform_llm_output"]
    plugins = config_of(home)["plugins"]
    assert plugins["enabled"] == [manifest["name"]] and "disabled" not in plugins  # the name hermes looks up
    assert "__pycache__/" in (home / ".gitignore").read_text().splitlines()


def test_a_template_without_a_plugins_section_gets_one(tmp_path: Path) -> None:
    template = copy_of("template-stock-research-lite", tmp_path)
    text = (template / "config.yaml.template").read_text()
    (template / "config.yaml.template").write_text(text.split("plugins:", 1)[0])
    home = apply(template, tmp_path / "p", VALUES, POOLS).path
    assert config_of(home)["plugins"] == {"enabled": ["twilight_verify"]}
    assert config_of(home)["timezone"] == "Asia/Shanghai"  # the rest as it was
    assert plugin_files_of(home) == plugin_files_of(PLUGIN)


@pytest.mark.parametrize(
    "plugins", ["plugins:\n  enabled: []\n", "plugins:\n  enabled: [twilight_verify]\n  disabled: [twilight_verify]\n",
                "plugins:\n  disabled: [other]\n", "plugins: off\n"],
)  # fmt: skip
def test_a_template_that_leaves_the_plugin_out_is_refused(plugins: str, tmp_path: Path) -> None:
    template = copy_of("template-crypto", tmp_path)
    text = (template / "config.yaml.template").read_text()
    (template / "config.yaml.template").write_text(text.split("plugins:", 1)[0] + plugins)
    with pytest.raises(
        TemplateError, match=r"template-crypto/config.yaml.template: .*twilight_verify in plugins.enabled"
    ):
        apply(template, tmp_path / "p", VALUES, POOLS)
    assert not (tmp_path / "p").exists()


def test_install_plugins_brings_an_existing_profile_up_to_date(tmp_path: Path) -> None:
    home = apply(TEMPLATES_DIR / "template-crypto", tmp_path / "p", VALUES, POOLS).path
    assert shipped_plugins.install_plugins(home) == []  # already this release's
    (home / "plugins" / "twilight_verify" / "marking.py").write_text("# an older release\n")
    (home / "plugins" / "twilight_verify" / "client.py").unlink()
    assert shipped_plugins.install_plugins(home) == [
        "plugins/twilight_verify/client.py",
        "plugins/twilight_verify/marking.py",
    ]
    assert plugin_files_of(home) == plugin_files_of(PLUGIN)
    with pytest.raises(TemplateError, match="not a profile"):
        shipped_plugins.install_plugins(tmp_path / "nobody")


def test_the_plugin_is_pushed_with_the_profile_and_its_bytecode_is_not(tmp_path: Path) -> None:
    registry = Registry(str(tmp_path / "registry.git"), tmp_path / "work").ensure()
    home = apply(
        TEMPLATES_DIR / "template-stock-research-pro", registry.workdir / "profiles" / "desk", VALUES, POOLS
    ).path
    compileall.compile_dir(str(home / "plugins"), quiet=1)  # what hermes' import leaves beside the plugin
    assert list((home / "plugins" / "twilight_verify").glob("__pycache__/*.pyc"))
    assert registry.push("template apply")
    clone = tmp_path / "other-host"
    subprocess.run(["git", "clone", "-q", str(tmp_path / "registry.git"), str(clone)], check=True)
    pulled = clone / "profiles" / "desk"
    assert plugin_files_of(pulled / "plugins" / "twilight_verify") == plugin_files_of(PLUGIN)
    assert not (pulled / "plugins" / "twilight_verify" / "__pycache__").exists() and not (pulled / ".env").exists()


def test_secret_schema_errors_are_loud(tmp_path: Path) -> None:
    path = tmp_path / "secrets.schema.json"
    for body in ({"X_KEY": {"type": "string"}}, {"X_KEY": {"type": "string", "generated": True, "from_pool": "llm"}},
                 {"lower": {"type": "string", "generated": True}}, ["X_KEY"]):  # fmt: skip
        path.write_text(json.dumps(body))
        with pytest.raises(TemplateError, match=r"secrets\.schema\.json"):
            secret_schema.load_schema(path)


@pytest.mark.slow
def test_hermes_reads_the_profile_and_installs_its_jobs(hermes: str, tmp_path: Path) -> None:
    """The real hermes-agent: config.yaml's ${VAR}s expand from .env, and crontab.json's jobs go through
    cron.jobs.create_job into cron/jobs.json, due in Asia/Shanghai."""
    probe = """
import json, os
from pathlib import Path
home = Path(os.environ["HERMES_HOME"])
from hermes_cli.env_loader import load_hermes_dotenv
load_hermes_dotenv(hermes_home=home)
from hermes_cli.config import load_config
from cron.jobs import create_job, load_jobs
cfg = load_config()
for job in json.loads((home / "crontab.json").read_text()):
    create_job(**job)
print(json.dumps({"auth": cfg["mcp_servers"]["twilight"]["headers"]["Authorization"],
                  "api_key": cfg["model"]["api_key"], "jobs": load_jobs()}))
"""
    for name, count in SHIPPED.items():
        home = apply(TEMPLATES_DIR / name, tmp_path / name, VALUES, POOLS).path
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "HERMES_HOME": str(home)}
        python = Path(hermes).with_name("python")  # the interpreter of hermes' own environment
        done = subprocess.run([str(python), "-c", probe], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        seen = json.loads(done.stdout.strip().splitlines()[-1])
        secrets = read_env(home / ".env")
        assert seen["auth"] == f"Bearer {secrets['TWILIGHT_API_TOKEN']}"
        assert seen["api_key"] == secrets["TWILIGHT_LLM_API_KEY"]
        assert len(seen["jobs"]) == count
        stored = json.loads((home / "cron" / "jobs.json").read_text())["jobs"]
        for job in stored:
            assert job["schedule"]["kind"] == "cron" and job["next_run_at"].endswith("+08:00")
            assert job["workdir"] == str(home / "workspace") and job["enabled_toolsets"] == ["twilight"]
