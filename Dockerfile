# vsb-adapter container image (docs/sysadmin.md, "As a container").
#
#   docker build -t vsb-adapter .
#   docker run -d --name vsb-adapter \
#     -v vsb-adapter-state:/var/lib/vsb-adapter \
#     -v /etc/vsb-adapter:/etc/vsb-adapter:ro \
#     -e VSB_CONFIG=/etc/vsb-adapter/adapter.toml \
#     --env-file /etc/vsb-adapter/env \
#     -p 9108:9108 vsb-adapter
#
# Secrets (keystore passphrase, database password) come from the environment or a mounted
# file, never from the image.

# The base is pinned to a Python release and a Debian release, so a rebuild months later
# gets the same interpreter (raise both on purpose, with the lock: make lock).
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/vsb-adapter/venv
COPY . /src
# The hashed runtime lock first (every wheel checked against its hash), then the project
# without resolving anything more. lxml, cryptography and psycopg[binary] install from
# wheels: no compiler needed.
RUN /opt/vsb-adapter/venv/bin/pip install --require-hashes -r /src/requirements/runtime.lock \
 && /opt/vsb-adapter/venv/bin/pip install --no-deps /src

FROM ${PYTHON_IMAGE}
ARG VERSION=0.3.0
LABEL org.opencontainers.image.title="vsb-adapter" \
      org.opencontainers.image.description="Adapter between a care facility's EPD (FHIR events on RabbitMQ) and the VSB central care-fund application (signed SOAP)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}" \
      org.opencontainers.image.documentation="docs/sysadmin.md"
# USER names the default --actor of support commands; it also spares getpass a passwd
# look-up that fails when the container runs under an arbitrary uid (docker run --user).
ENV PATH=/opt/vsb-adapter/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VSB_STORE__URL=sqlite:////var/lib/vsb-adapter/vsb-adapter.db \
    VSB_SIGNING__KEYSTORE=/etc/vsb-adapter/facility.p12 \
    VSB_MONITORING__HOST=0.0.0.0 \
    USER=vsb-adapter
RUN groupadd --system --gid 10001 vsb-adapter \
 && useradd --system --uid 10001 --gid vsb-adapter --home-dir /var/lib/vsb-adapter \
      --no-create-home --shell /usr/sbin/nologin vsb-adapter \
 && mkdir -p /var/lib/vsb-adapter \
 && chown vsb-adapter:vsb-adapter /var/lib/vsb-adapter \
 && chmod 0750 /var/lib/vsb-adapter
COPY --from=build /opt/vsb-adapter/venv /opt/vsb-adapter/venv
COPY vsb-adapter.example.toml /opt/vsb-adapter/vsb-adapter.example.toml

USER vsb-adapter
WORKDIR /var/lib/vsb-adapter
VOLUME ["/var/lib/vsb-adapter"]
EXPOSE 9108
# /health answers 503 when the store is down (urlopen raises); 200 for "ok" and "degraded".
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9108/health', timeout=4).status == 200 else 1)"]
# On SIGTERM the daemon drains sends in flight for up to delivery.drain_seconds (20 s) and
# then needs at most about 20 s more (docs/sysadmin.md): give `docker stop` 45 s (-t 45).
STOPSIGNAL SIGTERM
ENTRYPOINT ["vsb-adapter"]
CMD ["run"]
