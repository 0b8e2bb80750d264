# Sourced by ./mvnw and ./meshctl: picks JDK 25 when the caller did not choose a JDK.
# An explicit JAVA_HOME always wins, so `JAVA_HOME=<jdk17> ./mvnw verify` reaches the
# enforcer and fails with its message instead of being silently upgraded.
if [ -z "${JAVA_HOME:-}" ]; then
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk-arm64 \
                   /usr/lib/jvm/temurin-25-jdk /usr/lib/jvm/java-25-openjdk-amd64 /opt/java/openjdk; do
    if [ -x "$candidate/bin/java" ] && "$candidate/bin/java" -version 2>&1 | grep -q 'version "25'; then
      export JAVA_HOME="$candidate"
      break
    fi
  done
fi
