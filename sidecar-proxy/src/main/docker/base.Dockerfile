# Base of the sidecar image (meshwork.image.sidecarBase in the root pom): the Temurin 25 JRE plus
# iptables, which the `capture` command of the injected init container runs. Jib adds the
# application layers on top without a Docker daemon, but cannot install packages, so this one layer
# is built and pushed once per JRE update with any OCI builder:
#
#   docker build -f sidecar-proxy/src/main/docker/base.Dockerfile -t ghcr.io/meshwork/sidecar-base:25-jre-iptables .
#   docker push ghcr.io/meshwork/sidecar-base:25-jre-iptables
#
# (buildah bud / kaniko take the same file.) Ubuntu's iptables is the nft backend, which works on
# every kernel that current Kubernetes nodes run; iptables-legacy is installed beside it.
FROM eclipse-temurin:25-jre
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables \
 && rm -rf /var/lib/apt/lists/*
