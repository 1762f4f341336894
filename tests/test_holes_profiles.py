"""Issue 15, holes 1, 10 and 11, as a hostile or careless caller met them: profile names that walk
out of TWILIGHT_HOME, a `template apply` whose key the server refused, and a registry made with a
default `git init --bare` that a second host could not join."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from ops import admin_cli, cli, profiles_cli
from ops.settings import Settings
from profiles import names
from profiles.envfile import read_env
from provisioning.migrate import open_accounts
from provisioning.tokens import TokenStore
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare
from tests.fake_yahoo import FakeYahoo
from tests.helpers import TWILIGHT, free_port, serve

MANAGER = str(Path(sys.executable).with_name("hermes-profile-manager"))
ADMIN = str(Path(sys.executable).with_name("hermes-admin"))
PRO = "template-stock-research-pro"
POOL = '["sk-pool-key-0001"]'

BAD_NAMES = ["../../../escape", "/etc", "..", "a" * 10_000, "Desk-1", "dèsk", "desk_1", "desk\n", ""]


def clean_env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("TWILIGHT_", "TUSHARE_"))}, **extra}


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def deep_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TWILIGHT_HOME four levels below tmp_path, so `../../..` lands inside tmp_path where it can be seen."""
    home = tmp_path / "a" / "b" / "c" / "home"
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    for key in [k for k in os.environ if k.startswith(("TWILIGHT_", "TUSHARE_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("TWILIGHT_HOME", str(home))
    monkeypatch.setenv("TWILIGHT_LLM_KEY_POOL", POOL)
    return home


def outside(tmp_path: Path, home: Path) -> set[str]:
    """What exists under tmp_path but not under TWILIGHT_HOME (the folders leading to it excepted)."""
    leading = {str(p.relative_to(tmp_path)) for p in home.parents if p != tmp_path and tmp_path in p.parents}
    return {f for f in files_under(tmp_path) - leading - {"cwd"} if not f.startswith(str(home.relative_to(tmp_path)))}


# Every command that takes a name, with NAME where the bad name goes.
# fmt: off
COMMANDS: list[tuple[Callable[[list[str]], int], str, list[str]]] = [
    (profiles_cli.main, "hermes-profile-manager", ["template", "apply", PRO, "NAME"]),
    (profiles_cli.main, "hermes-profile-manager", ["template", "apply", "NAME", "desk-1"]),
    (profiles_cli.main, "hermes-profile-manager", ["template", "create", "NAME", "--from", "desk-1"]),
    (profiles_cli.main, "hermes-profile-manager", ["template", "create", "my-template", "--from", "NAME"]),
    (profiles_cli.main, "hermes-profile-manager", ["show", "NAME"]),
    (profiles_cli.main, "hermes-profile-manager", ["claim", "NAME", "--as", "operator:liang"]),
    (profiles_cli.main, "hermes-profile-manager", ["rebind", "NAME"]),
    (profiles_cli.main, "hermes-profile-manager", ["ownership", "transfer", "liang", "bob", "--profile", "NAME",
                                                   "--from-consent", "operator:a", "--to-consent", "operator:b"]),
    (admin_cli.main, "hermes-admin", ["spawn", "NAME"]),
    (admin_cli.main, "hermes-admin", ["spawn", "desk-1", "--template", "NAME"]),
    (admin_cli.main, "hermes-admin", ["exec", "NAME", "--", "true"]),
    (admin_cli.main, "hermes-admin", ["start", "NAME"]),
    (admin_cli.main, "hermes-admin", ["stop", "NAME"]),
    (admin_cli.main, "hermes-admin", ["health", "NAME"]),
    (admin_cli.main, "hermes-admin", ["logs", "NAME"]),
    (admin_cli.main, "hermes-admin", ["migrate", "NAME"]),
    (cli.main, "hermes-profile-manager", ["profiles", "template", "apply", PRO, "NAME"]),
    (cli.main, "hermes-admin", ["profiles", "admin", "spawn", "NAME"]),
    (cli.main, "hermes-admin", ["profiles", "admin", "exec", "NAME", "--", "true"]),
]
# fmt: on


@pytest.mark.parametrize("bad", BAD_NAMES, ids=lambda n: repr(n[:20]) + (f"x{len(n)}" if len(n) > 20 else ""))
def test_every_command_refuses_a_bad_name_before_writing_anything(
    bad: str, deep_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for main, prog, argv in COMMANDS:
        code = main([bad if arg == "NAME" else arg for arg in argv])
        err = capsys.readouterr().err
        where = f"{prog} {' '.join(argv)} with {bad[:30]!r}"
        assert code == 2, where
        assert err.startswith(f"{prog}: ") and "is not a valid name: use 1 to 63 characters" in err, where
        assert len(err) < 400 and err.count("\n") == 1 and "Traceback" not in err, where  # one sentence
        assert names.shown(bad) in err, where
        assert outside(tmp_path, deep_home) == set(), where
    assert not deep_home.exists()  # refused before even the data folder was made: no user, no key
    assert TokenStore(open_accounts(Settings().accounts_url)).listing() == []


def test_the_console_scripts_refuse_traversal_with_exit_2(tmp_path: Path) -> None:
    """The issue's own commands, through the installed scripts."""
    home = tmp_path / "a" / "b" / "c" / "home"
    env = clean_env(TWILIGHT_HOME=str(home), TWILIGHT_LLM_KEY_POOL=POOL)
    runs = [[MANAGER, "template", "apply", PRO, "../../../escape"], [ADMIN, "spawn", "../../../x"],
            [ADMIN, "exec", "/etc", "--", "true"], [ADMIN, "exec", "../..", "--", "true"],
            [MANAGER, "template", "apply", PRO, "a" * 10_000]]  # fmt: skip
    for argv in runs:
        done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "Traceback" not in done.stderr, (argv[:3], done.stderr[-500:])
        assert "is not a valid name" in done.stderr and done.stdout == ""
    assert outside(tmp_path, home) == set() and not home.exists()


def test_good_names_still_work_and_the_rule_is_strict() -> None:
    for good in ("desk-1", "a", "0", "user-1a2b3c4d", "x" * 63, PRO):
        assert names.check(good) == good
    for bad in [*BAD_NAMES, "x" * 64, "-desk", "desk 1", "desk.1", "desk/1", "ｄｅｓｋ"]:
        with pytest.raises(names.ProfileNameError):
            names.check(bad)


def test_the_provisioner_makes_names_that_keep_the_rule_whatever_the_user_is_called(tmp_path: Path) -> None:
    """The payment webhook's and `twilight provision`'s profile is `user-<id8>`; the user's own name,
    however hostile, never becomes a path (not even of a lock file)."""
    deep_home = tmp_path / "a" / "b" / "c" / "home"
    env = clean_env(TWILIGHT_HOME=str(deep_home), TWILIGHT_LLM_KEY_POOL=POOL)
    for user in ("../../../../x", "a" * 10_000):
        done = subprocess.run([TWILIGHT, "provision", "--user", user, "--json"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        made = json.loads(done.stdout)
        assert names.check(made["profile"]) == made["profile"] and made["profile"].startswith("user-")
        assert Path(made["path"]) == deep_home / "profile-registry" / "profiles" / made["profile"]
        assert read_env(Path(made["path"]) / ".env")["TWILIGHT_API_TOKEN"]
    assert outside(tmp_path, deep_home) == set()


@pytest.fixture
def server(
    fake_tushare: FakeTushare, fake_eastmoney: FakeEastmoney, fake_yahoo: FakeYahoo, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    env = clean_env(TWILIGHT_HOME=str(tmp_path / "home"), TUSHARE_TOKEN="test-token", TUSHARE_API_URL=fake_tushare.url,
                    TWILIGHT_EASTMONEY_URL=fake_eastmoney.url, TWILIGHT_YAHOO_URL=fake_yahoo.url,
                    TWILIGHT_TDX_SERVERS='["127.0.0.1:9"]', TWILIGHT_UPSTREAM_TRIES="1",
                    TWILIGHT_LLM_KEY_POOL=POOL)  # fmt: skip
    port = free_port()
    process = serve(env, port, tmp_path / "server.log")
    try:
        yield f"http://127.0.0.1:{port}", env
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_a_profile_made_by_template_apply_holds_a_key_the_server_takes(server: tuple[str, dict[str, str]]) -> None:
    url, env = server
    done = subprocess.run([MANAGER, "template", "apply", PRO, "desk-1", "--json"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    token = read_env(Path(made["path"]) / ".env")["TWILIGHT_API_TOKEN"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    response = httpx.post(url + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=headers)
    assert response.status_code == 200, response.text
    assert made["user"] == "desk-1"  # whose key it is, as `token list` shows it
    listed = subprocess.run([TWILIGHT, "token", "list", "--json"], env=env, capture_output=True, text=True)
    assert token not in listed.stdout and "desk-1" in listed.stdout  # stored as its digest only


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.parametrize("head", ["master", "main"])
def test_a_registry_made_by_git_init_bare_is_joined_by_a_second_host(head: str, tmp_path: Path) -> None:
    """The seed's way: `git init --bare` on a default git (HEAD names master), or one naming main."""
    remote = tmp_path / "registry.git"
    git("-c", f"init.defaultBranch={head}", "init", "-q", "--bare", str(remote))
    assert git("symbolic-ref", "HEAD", cwd=remote).strip() == f"refs/heads/{head}"
    hosts = {host: clean_env(TWILIGHT_HOME=str(tmp_path / host), TWILIGHT_PROFILE_REGISTRY=str(remote),
                             TWILIGHT_LLM_KEY_POOL=POOL) for host in ("a", "b")}  # fmt: skip

    def manager(host: str, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([MANAGER, *args], env=hosts[host], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (host, args, done.stderr)
        return done

    manager("a", "template", "apply", PRO, "desk-a")
    manager("b", "pull")
    manager("b", "template", "apply", PRO, "desk-b")
    manager("a", "pull")
    for host in ("a", "b"):
        listed = json.loads(manager(host, "list", "--json").stdout)
        assert {row["profile"] for row in listed} == {"desk-a", "desk-b"}, host
    log = git("log", "--format=%s", "main", cwd=remote).splitlines()
    assert log.count("registry: initialise (profiles/, OWNERS, README)") == 1  # one history, not two
    git("clone", "-q", str(remote), str(tmp_path / "by-hand"))  # as an operator looking at it would
    assert (tmp_path / "by-hand" / "OWNERS").is_file() and (tmp_path / "by-hand" / "profiles" / "desk-a").is_dir()
