# Civility: API and workers from one image; the model ships inside it (no run-time download).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 CIVILITY_DATA_DIR=/data

WORKDIR /app
# CPU-only torch first: the default index would pull a multi-GB CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md ./
COPY service ./service
COPY workers ./workers
COPY models ./models
RUN pip install . && useradd --system --uid 10001 --home /data civility && mkdir -p /data && chown civility /data

USER civility
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["civility", "up", "--host", "0.0.0.0", "--port", "8000"]
