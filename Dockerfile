# refund-sandbox: every provider at /<key>, the control plane at /_sandbox, on port 8080.
# Installed exactly as the README's first command does (`pip install .` in the checkout), as root,
# then run as an unprivileged user; tenants live in the /data volume.
FROM python:3.11-slim
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY sandbox ./sandbox
COPY contracts ./contracts
COPY fixtures ./fixtures
RUN pip install --no-cache-dir . && cd / && rm -rf /src \
 && useradd --create-home --uid 10001 sandbox && mkdir /data && chown sandbox /data
USER sandbox
WORKDIR /home/sandbox
ENV PYTHONUNBUFFERED=1 REFUND_SANDBOX_PORT=8080 REFUND_SANDBOX_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/_sandbox/health', timeout=2)"
CMD ["refund-sandbox", "serve", "--host", "0.0.0.0"]
