#!/usr/bin/env bash
# Build the API and UI images on a locally made Debian base (no image registry is needed),
# run `docker compose up`, check /health and one segmentation through the UI's API URL, then run
# the API image under the Lambda Runtime Interface Emulator and answer one API Gateway event.
#
#   scripts/containers.sh            (needs root for debootstrap/dockerd, or a running engine)
#
# Env: BASE_IMAGE (skip debootstrap and use this base), CA_BUNDLE (pip's CA inside builds),
#      DEBIAN_MIRROR, KEEP_UP=1 (leave the compose stack running).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BASE_IMAGE=${BASE_IMAGE:-lesion-base:bookworm}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PY=.venv/bin/python
COMPOSE=$($PY -c "import compose, pathlib; print(pathlib.Path(compose.__file__).parent / 'docker-compose')")
RIE=$(ls .venv-sam/lib/python3.*/site-packages/samcli/local/rapid/aws-lambda-rie-"$(uname -m | sed 's/aarch64/arm64/')" | head -1)
say() { printf '\n== %s\n' "$*"; }
# A client that builds with BuildKit: `docker` with buildx, else Debian's own 20.10 client.
DOCKER=${DOCKER:-docker}
if ! "$DOCKER" buildx version >/dev/null 2>&1 && [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; fi
docker() { "$DOCKER" "$@"; }

say "Docker engine"
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || { echo "no Docker engine: apt-get install docker.io" >&2; exit 2; }
  nohup dockerd --bridge=none --iptables=false --ip6tables=false >/tmp/dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
docker version --format 'engine {{.Server.Version}}'

say "Base image $BASE_IMAGE"
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  ROOTFS=$(mktemp -d)
  debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates \
    bookworm "$ROOTFS" "$DEBIAN_MIRROR" >/tmp/debootstrap.log
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  tar -C "$ROOTFS" -c . | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$BASE_IMAGE"
  rm -rf "$ROOTFS"
fi

say "Build images (BuildKit; the CA bundle is a build secret, not a layer)"
build() {
  DOCKER_BUILDKIT=1 "$DOCKER" build --network host --secret "id=ca,src=$CA_BUNDLE" \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" "$@"
}
build -f lambda/Dockerfile -t lesion-api:latest .
build -f ui/Dockerfile -t lesion-ui:latest .
build -t lesion-local-s3:latest infra/local-s3
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^lesion-(api|ui|base)'

say "docker compose up"
export API_BASE_IMAGE=$BASE_IMAGE UI_BASE_IMAGE=$BASE_IMAGE
"$COMPOSE" up -d --no-build --wait --wait-timeout 180
trap '[ "${KEEP_UP:-0}" = 1 ] || "$COMPOSE" --profile s3 down --timeout 5 >/dev/null 2>&1' EXIT
"$COMPOSE" ps --format '{{.Service}} {{.Status}}'
curl -fsS http://127.0.0.1:8000/health; echo
"$COMPOSE" exec -T ui python3 -c '
import os, api_client
r = api_client.segment(os.environ["API_URL"], "ISIC_0000012.jpg",
                       open("samples/ISIC_0000012.jpg", "rb").read(), "image/jpeg", None)
m = r.body["measurements"]
print("UI -> {}: {}x{} mask, lesion {:.1%} of the image, {:.0f} ms round trip".format(
    os.environ["API_URL"], r.mask.size[0], r.mask.size[1], m["area_fraction"], r.round_trip_ms))'
curl -fsS -o /dev/null -w 'UI page: HTTP %{http_code}\n' http://127.0.0.1:8501/

say "docker compose --profile s3: the API loads its model from a local S3 (moto)"
MODEL_SHA256=$(sha256sum models/unet.tflite | cut -d' ' -f1) \
  "$COMPOSE" --profile s3 up -d --no-build --wait --wait-timeout 180
curl -fsS http://127.0.0.1:8001/health | $PY -c '
import json, sys
health = json.load(sys.stdin)
print("api-s3:", health["status"], "model from", health["model"]["source"], health["model"]["sha256"][:12])
assert health["status"] == "ok" and health["model"]["source"].startswith("s3://")'

say "Lambda Runtime Interface Emulator in the API image"
docker network create lesion-rie >/dev/null 2>&1 || true  # a bridge, for the published port
CID=$(docker run -d --rm --network lesion-rie -p 127.0.0.1:9000:8080 -v "$ROOT/$RIE:/rie:ro" \
  --entrypoint /rie lesion-api:latest python3 -m awslambdaric app.handler.handler)
trap 'docker rm -f "$CID" >/dev/null 2>&1; docker network rm lesion-rie >/dev/null 2>&1; [ "${KEEP_UP:-0}" = 1 ] || "$COMPOSE" --profile s3 down --timeout 5 >/dev/null 2>&1' EXIT
for _ in $(seq 30); do curl -s -o /dev/null http://127.0.0.1:9000/ && break; sleep 1; done
$PY -c '
import json, urllib.request
from scripts.apigw_events import event, multipart
ctype, body = multipart(open("tests/fixtures/samples/ISIC_0000012.jpg", "rb").read())
ev = event("v2", "POST", "/v1/segment", body, {"content-type": ctype, "accept": "image/png"})
req = urllib.request.Request("http://127.0.0.1:9000/2015-03-31/functions/function/invocations",
                             data=json.dumps(ev).encode(), method="POST")
reply = json.loads(urllib.request.urlopen(req, timeout=120).read())
headers = {k.lower(): v for k, v in reply["headers"].items()}
print("RIE: statusCode", reply["statusCode"], headers["content-type"], "base64", reply["isBase64Encoded"])
assert reply["statusCode"] == 200 and headers["content-type"] == "image/png"'
say "OK"
