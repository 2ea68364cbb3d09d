# The ntrader_pipeline code location, served over gRPC to a Dagster webserver/daemon.
#   make image   (podman or docker: build -t ntrader-pipeline .; add --build-arg EXTRAS=scale for K8s/Celery)
#   docker run --rm -p 4000:4000 -e IB_HOST=host.docker.internal -e IB_PORT=4002 ntrader-pipeline
# nautilus_trader 1.231 requires Python >= 3.12 (pyproject.toml: requires-python >=3.12,<3.13).
FROM python:3.12-slim

ARG EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/app \
    NTRADER_CATALOG=/data/catalog \
    NTRADER_ARTIFACTS=/data/backtests \
    NTRADER_REPORTS=/data/reports \
    NTRADER_UNIVERSE=/app/data/universe.yaml \
    NTRADER_BACKTESTS=/app/data/backtests.yaml \
    PYTHONWARNINGS="ignore:Function `asset_materialize_command` is superseded:FutureWarning"

RUN useradd --create-home --uid 1000 ntrader && mkdir -p /app /data && chown ntrader /app /data
WORKDIR /app

# Dependencies first (their own layer, rebuilt only when the pins change), then the source.
COPY pyproject.toml README.md ./
# (hadolint's DL3013 wants `pip install pkg==X`: this installs the project itself, pinned in pyproject.toml)
# hadolint ignore=DL3013
RUN mkdir ntrader_pipeline && touch ntrader_pipeline/__init__.py \
    && pip install ".${EXTRAS:+[$EXTRAS]}" && pip uninstall -y ntrader_pipeline && rm -rf ntrader_pipeline build
COPY ntrader_pipeline ./ntrader_pipeline
COPY data/universe.yaml data/backtests.yaml ./data/
COPY dagster.yaml workspace.yaml ./
RUN pip install --no-deps . && rm -rf build && chown -R ntrader /app

# The `ntrader` account created above, by uid (DL3066: a name may not resolve on the host)
USER 1000
VOLUME ["/data"]
EXPOSE 4000
HEALTHCHECK --interval=30s --timeout=10s CMD ["dagster", "api", "grpc-health-check", "-p", "4000"]
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "ntrader_pipeline.definitions"]
