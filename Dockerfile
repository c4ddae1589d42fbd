# One image for every Switchboard service; compose.yaml picks the service with its command.
FROM python:3.13-slim
WORKDIR /app
COPY . /app
# A regular install: policies, skills, evals and web pages ship inside the package.
RUN pip install --no-cache-dir /app && rm -rf /app/build && useradd --create-home switchboard \
    && mkdir -p /data /witness && chown switchboard /data /witness && chmod 700 /data /witness
USER switchboard
ENV SWITCHBOARD_DATA_DIR=/data
CMD ["switchboard", "up", "--host", "0.0.0.0"]
