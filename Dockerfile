# Paperboy: `docker build -t paperboy .` then `docker run -v paperboy-data:/data -p 3000:3000 paperboy`.
# BASE_IMAGE must provide python3 (3.11+) with venv; no assumption of /usr/local/bin/python.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
RUN python3 -m venv /opt/paperboy
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
COPY paperboy ./paperboy
RUN /opt/paperboy/bin/python -m pip install --no-cache-dir --upgrade pip \
 && /opt/paperboy/bin/python -m pip install --no-cache-dir -c constraints.txt .

FROM ${BASE_IMAGE}
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin paperboy \
 && mkdir -p /data && chown paperboy /data
COPY --from=build /opt/paperboy /opt/paperboy
ENV PATH=/opt/paperboy/bin:$PATH \
    PYTHONUNBUFFERED=1 \
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
