# oneonone daemon image: the feed/agenda server binds 0.0.0.0 only inside the container.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scheduler ./scheduler
RUN pip install --no-cache-dir . && useradd --create-home oneonone
USER oneonone
WORKDIR /home/oneonone
# Inside the container the server must listen on every interface to be reachable at all;
# publish the port only where the feeds should be seen (or put a TLS proxy in front).
ENV ONEONONE_SERVER__BIND=0.0.0.0:8321
EXPOSE 8321
# Mount the org file and its data folder at /home/oneonone/config.
VOLUME ["/home/oneonone/config"]
ENTRYPOINT ["oneonone"]
CMD ["run", "--config", "config/oneonone.toml"]
