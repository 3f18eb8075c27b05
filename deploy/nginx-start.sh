#!/bin/sh
# compose's nginx (deploy/nginx.Dockerfile): fills in deploy/nginx.conf.template from the
# container's environment, as deploy/stack.py fills it in for scripts/stack, and runs
# nginx in the foreground. Only the template's own ${NAMES} are replaced, and each must
# be set; nginx's $lower_case variables are left alone. Arguments are passed to nginx
# (`nginx-start -t` tests the filled-in configuration).
set -eu
template="${NGINX_TEMPLATE:-/etc/nginx/templates/nginx.conf.template}"
conf="${NGINX_CONF:-/etc/nginx/nginx.conf}"
names="$(grep -o '\${[A-Z_][A-Z0-9_]*}' "$template" | sort -u)"
for placeholder in $names; do
  name="${placeholder#??}"
  name="${name%?}"
  if [ -z "$(printenv "$name")" ]; then
    echo "nginx-start: $name is not set, and $template needs it" >&2
    exit 1
  fi
done
envsubst "$names" <"$template" >"$conf"
# Relative paths in the template (pid, temporary files) are under the configuration's folder.
exec nginx -p "${conf%/*}/" -c "$conf" -g "daemon off;" "$@"
