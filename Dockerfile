# refund-sandbox: every provider at /<key>, the control plane at /_sandbox, on port 8080.
FROM python:3.11-slim AS build
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY sandbox ./sandbox
COPY contracts ./contracts
COPY fixtures ./fixtures
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 sandbox && mkdir /data && chown sandbox /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER sandbox
WORKDIR /home/sandbox
ENV PYTHONUNBUFFERED=1 REFUND_SANDBOX_PORT=8080 REFUND_SANDBOX_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/_sandbox/health', timeout=2)"
CMD ["refund-sandbox", "serve", "--host", "0.0.0.0"]
