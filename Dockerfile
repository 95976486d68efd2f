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
RUN pip install . && useradd --system --uid 1000 onescreen
USER onescreen
EXPOSE 8050
ENTRYPOINT ["onescreen"]
CMD ["--help"]
