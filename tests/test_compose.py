"""The deployment files: docker-compose.yml against the Compose Specification, pinned images, health
checks, volumes, secrets only from .env, the SearXNG configuration, and the Dockerfile. No Docker engine
and no network: everything is read from the repository."""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from ops.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
SEARXNG_SETTINGS = ROOT / "searxng" / "settings.yml"
SEARXNG_LIMITER = ROOT / "searxng" / "limiter.toml"
SHARED_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "compose-spec.json"
FIXTURE_SCHEMA = Path(__file__).resolve().parent / "fixtures" / "compose-spec.json"

# Services whose state must survive `docker compose down`: service -> its data directory.
DATA_DIRS = {
    "twilight": "/data",
    "postgres": "/var/lib/postgresql/data",
    "redis": "/data",
    "new-api": "/data",
}
EXPECTED_SERVICES = {"twilight", "postgres", "searxng", "redis", "new-api"}
# Variables .env.example must mention (set or as a commented-out example).
REQUIRED_ENV_NAMES = {
    "POSTGRES_PASSWORD",
    "SEARXNG_SECRET",
    "NEW_API_SESSION_SECRET",
    "TUSHARE_TOKEN",
    "TWILIGHT_WECHATPAY_MCH_ID",
    "TWILIGHT_WECHATPAY_APIV3_KEY",
    "TWILIGHT_WECHATPAY_PUBLIC_KEY_FILE",
    "TWILIGHT_WECHATPAY_PUBLIC_KEY_ID",
    "TWILIGHT_LLM_KEY_POOL",
    "TWILIGHT_PUBLIC_MCP_URL",
    "TWILIGHT_ALLOWED_HOSTS",
    "TWILIGHT_PROFILE_RUNNER",
    "DASHSCOPE_API_KEY",
    "GOOGLE_CSE_API_KEY",
    "GOOGLE_CSE_ID",
}
CHINESE_ENGINES = ("baidu", "sogou", "360search", "bing")

# ${VAR}, ${VAR:-default}, ${VAR:?error}, $VAR; "$$" is a literal dollar sign.
_INTERPOLATION = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))")
_ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


# --- helpers (also exercised on broken inputs below, so the checks can fail) ---------------------------


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def compose_schema() -> Any:
    path = SHARED_SCHEMA if SHARED_SCHEMA.is_file() else FIXTURE_SCHEMA
    return json.loads(path.read_text(encoding="utf-8"))


def schema_errors(document: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(compose_schema())
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document))


def image_is_pinned(image: str) -> bool:
    """A tag that is not `latest` (or a digest). A registry port (`host:5000/name`) is not a tag."""
    if "@sha256:" in image:
        return True
    name = image.rsplit("/", 1)[-1]
    if ":" not in name:
        return False
    tag = name.rsplit(":", 1)[1]
    return bool(tag) and tag != "latest"


def unpinned_services(compose: dict[str, Any]) -> list[str]:
    bad = []
    for name, service in compose["services"].items():
        image = service.get("image")
        if "build" in service and (image is None or ":" in image.rsplit("/", 1)[-1]):
            continue
        if not isinstance(image, str) or not image_is_pinned(image):
            bad.append(name)
    return bad


def services_without_healthcheck(compose: dict[str, Any]) -> list[str]:
    bad = []
    for name, service in compose["services"].items():
        check = service.get("healthcheck") or {}
        if check.get("disable") or not check.get("test") or check.get("test") == ["NONE"]:
            bad.append(name)
    return bad


def interpolated_names(text: str) -> set[str]:
    return {braced or bare for braced, bare in _INTERPOLATION.findall(text)}


def strings_in(node: Any) -> list[str]:
    """Every string (keys and values) of a loaded YAML document: what compose interpolates, not comments."""
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*strings_in(key), *strings_in(value))]
    if isinstance(node, list):
        return [s for item in node for s in strings_in(item)]
    return [node] if isinstance(node, str) else []


def env_example() -> tuple[dict[str, str], dict[str, str]]:
    """(set, commented-out examples): NAME -> value with surrounding quotes removed."""
    active: dict[str, str] = {}
    commented: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = _ENV_LINE.match(line.strip())
        if not match:
            continue
        value = match.group(3).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        (commented if match.group(1) else active)[match.group(2)] = value
    return active, commented


def healthcheck_text(service: dict[str, Any]) -> str:
    test = service.get("healthcheck", {}).get("test", [])
    return test if isinstance(test, str) else " ".join(test)


def is_root_user(user: object) -> bool:
    if user is None:
        return True
    name = str(user).split(":", 1)[0]
    return name in ("", "0", "root")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = load_yaml(COMPOSE)
    assert isinstance(document, dict)
    return document


# --- docker-compose.yml ----------------------------------------------------------------------------------


def test_compose_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the Compose Specification has no `version:`"
    assert schema_errors(compose) == []


def test_the_schema_check_can_fail(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["twilight"]["read_only"] = ["yes please"]
    broken["services"]["postgres"]["no_such_key"] = 1
    errors = schema_errors(broken)
    assert any("read_only" in e for e in errors)
    assert any("no_such_key" in e for e in errors)


def test_the_fixture_schema_matches_the_shared_one() -> None:
    assert FIXTURE_SCHEMA.is_file(), "tests/fixtures/compose-spec.json is what a clean clone validates with"
    if SHARED_SCHEMA.is_file():
        assert FIXTURE_SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()


def test_the_stack_has_every_service(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == EXPECTED_SERVICES


def test_every_image_is_pinned(compose: dict[str, Any]) -> None:
    assert unpinned_services(compose) == []
    for name, service in compose["services"].items():
        if name != "twilight":
            assert "build" not in service and image_is_pinned(service["image"]), name


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("postgres:16.4-alpine", True),
        ("postgres", False),
        ("postgres:latest", False),
        ("registry.example.com:5000/searxng/searxng", False),
        ("registry.example.com:5000/searxng/searxng:2025.5.2-590b21165", True),
        ("redis@sha256:" + "0" * 64, True),
    ],
)
def test_image_pinning_rule(image: str, pinned: bool) -> None:
    assert image_is_pinned(image) is pinned


def test_unpinned_and_unchecked_services_are_caught(compose: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["redis"]["image"] = "redis:latest"
    broken["services"]["searxng"]["image"] = "searxng/searxng"
    del broken["services"]["new-api"]["healthcheck"]
    broken["services"]["postgres"]["healthcheck"] = {"disable": True}
    assert sorted(unpinned_services(broken)) == ["redis", "searxng"]
    assert sorted(services_without_healthcheck(broken)) == ["new-api", "postgres"]


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    assert services_without_healthcheck(compose) == []
    assert "pg_isready" in healthcheck_text(compose["services"]["postgres"])
    assert "redis-cli ping" in healthcheck_text(compose["services"]["redis"])
    assert "/healthz" in healthcheck_text(compose["services"]["searxng"])
    assert "/api/status" in healthcheck_text(compose["services"]["new-api"])


def test_data_services_keep_their_data_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, target in DATA_DIRS.items():
        mounts = {}
        for volume in compose["services"][name].get("volumes", []):
            if isinstance(volume, str):
                source, _, rest = volume.partition(":")
                mounts[rest.split(":", 1)[0]] = source
            else:
                mounts[volume["target"]] = volume.get("source", "")
        assert target in mounts, f"{name} does not mount {target}"
        assert mounts[target] in declared, f"{name}: {target} is not a named volume"


def test_twilight_service_is_hardened(compose: dict[str, Any]) -> None:
    twilight = compose["services"]["twilight"]
    assert twilight["build"] == "."
    assert twilight["read_only"] is True
    assert not is_root_user(twilight.get("user"))
    assert any(str(t).split(":", 1)[0] == "/tmp" for t in twilight["tmpfs"])
    assert "/healthz" in healthcheck_text(twilight)
    assert twilight["restart"] == "unless-stopped"
    assert twilight["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "searxng" in twilight["depends_on"]
    env = twilight["environment"]
    assert env["TWILIGHT_DATABASE_URL"].startswith("postgresql+psycopg://twilight:${POSTGRES_PASSWORD")
    assert env["TWILIGHT_DATABASE_URL"].endswith("@postgres:5432/twilight")
    assert env["SEARXNG_URL"] == "http://searxng:8080"
    assert env["TWILIGHT_LLM_GATEWAY_URL"] == "http://new-api:3000/v1"
    assert env["TWILIGHT_HOST"] == "0.0.0.0"
    assert [e["path"] if isinstance(e, dict) else e for e in twilight["env_file"]] == [".env"]


def test_root_user_rule() -> None:
    assert is_root_user(None) and is_root_user("0:0") and is_root_user("root")
    assert not is_root_user("10001:10001") and not is_root_user("twilight")


def test_published_ports_are_loopback_only(compose: dict[str, Any]) -> None:
    published = {}
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), f"{name} publishes {port}"
            published[name] = port
    assert published == {"twilight": "127.0.0.1:9100:9100", "new-api": "127.0.0.1:3000:3000"}


def test_searxng_mounts_its_configuration_read_only(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["searxng"]["volumes"]
    assert "./searxng/settings.yml:/etc/searxng/settings.yml:ro" in volumes
    assert "./searxng/limiter.toml:/etc/searxng/limiter.toml:ro" in volumes
    assert compose["services"]["searxng"]["environment"]["SEARXNG_SECRET"].startswith("${SEARXNG_SECRET")
    assert "redis" in compose["services"]["searxng"]["depends_on"]


# --- secrets and .env.example --------------------------------------------------------------------------


def test_interpolation_finder() -> None:
    text = "a: ${ONE}\nb: ${TWO:?set it}\nc: ${THREE:-x}\nd: $FOUR\ne: $${NOT_ME} $$ALSO_NOT"
    assert interpolated_names(text) == {"ONE", "TWO", "THREE", "FOUR"}


def test_every_compose_variable_is_set_in_env_example(compose: dict[str, Any]) -> None:
    names = interpolated_names("\n".join(strings_in(compose)))
    assert {"POSTGRES_PASSWORD", "SEARXNG_SECRET", "NEW_API_SESSION_SECRET"} <= names
    active, _ = env_example()
    assert names - set(active) == set()


def test_env_example_lists_every_secret_and_setting() -> None:
    active, commented = env_example()
    assert REQUIRED_ENV_NAMES - set(active) - set(commented) == set()


def test_env_example_has_no_empty_values() -> None:
    """An empty JSON setting is a startup error and an empty WeChat Pay one counts as set: comment out."""
    active, commented = env_example()
    assert [name for name, value in {**commented, **active}.items() if value == ""] == []


def test_env_example_values_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    active, commented = env_example()
    for name, value in {**commented, **active}.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert "twilight:*" in settings.allowed_hosts
    assert settings.mcp_url == "http://twilight:9100/mcp"
    monkeypatch.delenv("TWILIGHT_LLM_KEY_POOL")
    for name in commented:
        monkeypatch.delenv(name)
    for name, value in active.items():
        monkeypatch.setenv(name, value)
    assert Settings().llm_key_pool == []


def test_no_secret_is_written_into_the_compose_file(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), name
        for key, value in environment.items():
            if any(word in key for word in ("PASSWORD", "SECRET", "TOKEN", "KEY")):
                assert str(value).startswith("${"), f"{name}.{key} must come from .env"


# --- SearXNG -------------------------------------------------------------------------------------------


def test_searxng_settings_enable_json_limiter_and_chinese_engines() -> None:
    settings = load_yaml(SEARXNG_SETTINGS)
    assert settings["use_default_settings"] is True
    assert "json" in settings["search"]["formats"]
    assert settings["server"]["limiter"] is True
    assert settings["search"]["default_lang"] == "zh-CN"
    store = settings.get("valkey") or settings.get("redis") or {}
    assert re.match(r"^(redis|valkey)://redis:6379/\d+$", store.get("url", ""))
    engines = {engine["name"]: engine for engine in settings["engines"]}
    for name in (*CHINESE_ENGINES, "duckduckgo", "wikipedia"):
        assert engines[name].get("disabled") is False, name


def test_searxng_limiter_lets_the_compose_network_through() -> None:
    limiter = tomllib.loads(SEARXNG_LIMITER.read_text(encoding="utf-8"))
    networks = [ipaddress.ip_network(n) for n in limiter["botdetection"]["ip_lists"]["pass_ip"]]
    docker_bridge = ipaddress.ip_address("172.18.0.5")
    assert any(docker_bridge in network for network in networks)
    assert "ip_limit" in limiter["botdetection"]


# --- Dockerfile ----------------------------------------------------------------------------------------


def test_dockerfile_is_pinned_non_root_and_healthy() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    (base,) = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    assert base.startswith("python:3.11") and image_is_pinned(base)
    assert "slim" in base
    (user,) = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert not is_root_user(user)
    assert re.search(r"^HEALTHCHECK\b.*\\\n.*/healthz", text, flags=re.MULTILINE) or re.search(
        r"^HEALTHCHECK\b.*/healthz", text, flags=re.MULTILINE
    )
    assert "curl" not in text.split("HEALTHCHECK", 1)[1]
    assert re.search(r"^EXPOSE\s+9100$", text, flags=re.MULTILINE)
    assert 'CMD ["twilight", "serve", "--host", "0.0.0.0"]' in text
    assert 'pip install ".[postgres]"' in text
    assert "TWILIGHT_HOME=/data" in text and 'VOLUME ["/data"]' in text
    assert "TWILIGHT_ALLOWED_HOSTS" in text
    assert "HOME=/tmp" in text
