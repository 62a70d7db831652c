"""Development and test helpers: Lambda event builders on `sam local generate-event` samples
(event_samples/), the local stack launcher, a Docker engine and offline base images for the
container checks. Not shipped in any image, but for edge_server.py (the on-device app's static
server) in edge/Dockerfile's."""
