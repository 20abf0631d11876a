# mentorbot in a container: the wheel is built in a first stage (flows, stories and templates
# inside it, the gettext catalogs compiled there), installed in a virtual environment, and only
# that environment is copied into the runtime image. No secret is baked in: tokens come from
# the environment at run time, the config file is mounted. See docs/deploy.md.
#
#   docker build -t mentorbot .
#   docker run --rm -p 8080:8080 --env-file secrets.env \
#     -v "$PWD/config.yaml:/etc/mentorbot/config.yaml:ro" -v mentorbot-data:/var/lib/mentorbot \
#     mentorbot

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/mentorbot \
    && /opt/mentorbot/bin/pip install "setuptools>=77" wheel "babel>=2.14"
COPY pyproject.toml setup.py MANIFEST.in README.md config.yaml babel.cfg ./
COPY bot ./bot
COPY flows ./flows
COPY locales ./locales
COPY stories ./stories
RUN /opt/mentorbot/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
    && /opt/mentorbot/bin/pip install /wheels/mentorbot-*.whl \
    && /opt/mentorbot/bin/mentorbot flows validate

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/mentorbot/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 mentorbot \
    && useradd --system --uid 10001 --gid mentorbot --home-dir /var/lib/mentorbot \
       --shell /usr/sbin/nologin mentorbot \
    && install -d -o mentorbot -g mentorbot -m 0700 /var/lib/mentorbot \
    && install -d -m 0755 /etc/mentorbot
COPY --from=build /opt/mentorbot /opt/mentorbot
USER mentorbot
WORKDIR /var/lib/mentorbot
VOLUME ["/var/lib/mentorbot"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/livez', timeout=4)"]
ENTRYPOINT ["mentorbot"]
CMD ["run", "--config", "/etc/mentorbot/config.yaml", "--data", "/var/lib/mentorbot"]
