# The twilight server image: non-root, data in a volume, health on /healthz.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 twilight
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mcp_server mcp_server
COPY providers providers
COPY warehouse warehouse
COPY citation citation
COPY provisioning provisioning
COPY profiles profiles
COPY ops ops
RUN pip install --no-cache-dir ".[postgres]"
USER twilight
ENV TWILIGHT_HOME=/data TWILIGHT_HOST=0.0.0.0 TWILIGHT_PORT=9100
VOLUME ["/data"]
EXPOSE 9100
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:9100/healthz', timeout=4).status != 200)"
CMD ["twilight", "serve", "--host", "0.0.0.0", "--port", "9100"]
