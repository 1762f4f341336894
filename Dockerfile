# syntax=docker/dockerfile:1
# The twilight server image: non-root, data in the /data volume, health on /healthz.
# Runs with a read-only root filesystem: everything it writes goes to /data (TWILIGHT_HOME, the
# volume) or /tmp (a tmpfs in docker-compose.yml). Bump the base tag deliberately (docs/deploy.md).
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git: the profile registry (TWILIGHT_PROFILE_REGISTRY) is a bare git repository.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 twilight \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin twilight \
    && mkdir -p /data \
    && chown 10001:10001 /data \
    && chmod 0700 /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY mcp_server mcp_server
COPY providers providers
COPY warehouse warehouse
COPY citation citation
COPY provisioning provisioning
COPY profiles profiles
COPY ops ops
RUN pip install ".[postgres]"

# HOME and the XDG dirs point at writable places, so libraries that cache (yfinance, matplotlib, git)
# work on a read-only root filesystem. /tmp is a tmpfs in docker-compose.yml.
# TWILIGHT_ALLOWED_HOSTS: JSON list of extra Host values accepted on /mcp, e.g. '["twilight:*"]' for
# profiles calling http://twilight:9100/mcp on the compose network, or '["api.example.com"]' behind a
# reverse proxy. Loopback is always accepted. Set it in .env (see .env.example), not here.
ENV TWILIGHT_HOME=/data \
    TWILIGHT_HOST=0.0.0.0 \
    TWILIGHT_PORT=9100 \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    XDG_CONFIG_HOME=/tmp/.config \
    XDG_DATA_HOME=/data/.local/share \
    MPLCONFIGDIR=/tmp/.matplotlib

USER 10001:10001
VOLUME ["/data"]
EXPOSE 9100
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9100/healthz', timeout=4).status == 200 else 1)"]
CMD ["twilight", "serve", "--host", "0.0.0.0"]
