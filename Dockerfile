# Paperboy: `docker build -t paperboy .` then `docker run -v paperboy-data:/data -p 3000:3000 paperboy`.
# BASE_IMAGE must provide python3 (3.11+) with venv; no assumption of /usr/local/bin/python.
ARG BASE_IMAGE=python:3.11-slim

# Build: the runtime lock only (hashed; no test tools), then Paperboy without resolving again; then pip and
# setuptools leave the venv, so the runtime stage cannot install anything.
FROM ${BASE_IMAGE} AS build
WORKDIR /src
RUN python3 -m venv /opt/paperboy
COPY requirements/runtime.txt ./requirements/
RUN /opt/paperboy/bin/python -m pip install --no-cache-dir --upgrade pip \
 && /opt/paperboy/bin/python -m pip install --no-cache-dir --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
COPY paperboy ./paperboy
RUN /opt/paperboy/bin/python -m pip install --no-cache-dir --no-deps . \
 && /opt/paperboy/bin/python -m pip uninstall --yes --quiet pip setuptools

FROM ${BASE_IMAGE}
ARG VERSION=unknown
# CI passes both (.ci/run); SOURCE is where this image's code is published.
ARG SOURCE=https://github.com/paperboy/paperboy
LABEL org.opencontainers.image.title="Paperboy" \
      org.opencontainers.image.description="The day's trending machine-learning papers, delivered to Slack and Discord channels." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT"
# The base image's own pip/setuptools (python:3.11-slim has them; Debian's python3 does not) go too.
RUN (python3 -m pip uninstall --yes --quiet --break-system-packages pip setuptools wheel 2>/dev/null || true) \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin paperboy \
 && mkdir -p /data && chown paperboy /data
COPY --from=build /opt/paperboy /opt/paperboy
ENV PATH=/opt/paperboy/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PAPERBOY_SECRETS_DIR=/run/secrets \
    PAPERBOY_DATA_DIR=/data \
    PAPERBOY_HTTP__HOST=0.0.0.0 \
    PAPERBOY_HTTP__PORT=3000
USER paperboy
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/opt/paperboy/bin/python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PAPERBOY_HTTP__PORT', '3000'), timeout=4)"]
STOPSIGNAL SIGTERM
CMD ["paperboy", "run"]
