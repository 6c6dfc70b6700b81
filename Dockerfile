# oneonone daemon image: the feed/agenda server binds 0.0.0.0 only inside the container.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scheduler ./scheduler
# The postgres extra brings psycopg 3 with its own libpq (the binary wheel): the image runs
# as one replica of many on PostgreSQL (ONEONONE_DATABASE_URL=postgresql://...) as well as
# alone on SQLite in the mounted data folder.
RUN pip install --no-cache-dir '.[postgres]' && useradd --create-home --uid 1000 oneonone
USER oneonone
WORKDIR /home/oneonone
# Inside the container the server must listen on every interface to be reachable at all;
# publish the port only where the feeds should be seen (or put a TLS proxy in front, and set
# ONEONONE_SERVER__PUBLIC_URL to the address people reach it at).
ENV ONEONONE_SERVER__BIND=0.0.0.0:8321
EXPOSE 8321
# Mount the org file and its data folder at /home/oneonone/config, owned by (or writable
# for) uid 1000, the oneonone user.
VOLUME ["/home/oneonone/config"]
# /healthz answers 503 when no pass has succeeded for three poll intervals (see the README);
# python is the one HTTP client the slim image has.
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('ONEONONE_SERVER__BIND', ':8321').rpartition(':')[2]; sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=8).status == 200 else 1)"]
ENTRYPOINT ["oneonone"]
CMD ["run", "--config", "config/oneonone.toml"]
