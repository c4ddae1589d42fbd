# One image for every Switchboard service; compose.yaml picks the service with its command.
FROM python:3.13-slim
WORKDIR /app
COPY . /app
# Editable: skills/, policies/ and evals/ are read from the source tree next to the packages.
RUN pip install --no-cache-dir -e /app && useradd --create-home switchboard \
    && mkdir -p /data /witness && chown switchboard /data /witness && chmod 700 /data /witness
USER switchboard
ENV SWITCHBOARD_DATA_DIR=/data
CMD ["switchboard", "up", "--host", "0.0.0.0"]
