#!/usr/bin/env bash
# Install what the local CKAN test stack (tests/ckan_stack) needs. Idempotent: a rerun is fast.
#
#  - Debian packages: postgresql-15, libpq-dev (psycopg2 builds from source), redis-server.
#  - A separate CKAN 2.12 virtualenv at ${CKAN_STACK_VENV:-$HOME/.cache/dcat-ap-nl-harvester/ckan-2.12-venv}
#    with ckan[requirements] and ckanext-scheming. A stamp file inside the venv records a finished
#    install of exactly these pins; without it (or with other pins) the venv is rebuilt.
set -euo pipefail

CKAN_VERSION="2.12.0"
SCHEMING_VERSION="3.1.0"
VENV="${CKAN_STACK_VENV:-$HOME/.cache/dcat-ap-nl-harvester/ckan-2.12-venv}"
PYTHON="${CKAN_STACK_PYTHON:-python3}"
STAMP="$VENV/.ckan-stack-installed"
WANT="ckan[requirements]==${CKAN_VERSION} ckanext-scheming==${SCHEMING_VERSION}"
START=$(date +%s)

log() { echo "[install-ckan-stack] $*"; }

as_root() {
    # Run a command as root (directly, or through sudo when we are not root).
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install_missing() {
    # Install the Debian packages among "$@" that dpkg does not report as installed.
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "apt packages present: $*"
        return
    fi
    log "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
}

stop_distro_services() {
    # Debian starts system-wide redis/postgres on install; the stack runs its own, so stop those.
    if command -v service >/dev/null 2>&1; then
        as_root service redis-server stop >/dev/null 2>&1 || true
    fi
}

pip_quiet() {
    # The venv's pip, quiet, without the "Location ... is ignored" noise of local index mirrors.
    "$VENV/bin/pip" -q "$@" 2> >(grep -v "^WARNING: Location '" >&2)
}

install_venv() {
    # Build the CKAN virtualenv unless its stamp says these exact pins are installed.
    if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/ckan" ]; then
        log "CKAN venv up to date: $VENV"
        return
    fi
    log "creating CKAN venv at $VENV ($WANT)"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
    # setuptools<81 keeps pkg_resources, which CKAN's bundled ckanext.stats still imports.
    pip_quiet install --upgrade pip "setuptools<81" wheel
    # shellcheck disable=SC2086
    pip_quiet install $WANT
    "$VENV/bin/ckan" generate config --help >/dev/null
    "$VENV/bin/python" -c "import ckanext.scheming.plugins, psycopg2, redis"
    echo "$WANT" >"$STAMP"
}

apt_install_missing postgresql-15 libpq-dev redis-server
stop_distro_services
install_venv
log "done in $(( $(date +%s) - START ))s (venv: $VENV)"
