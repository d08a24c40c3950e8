#!/usr/bin/env bash
# Writes the demo's sample subscriber e-mail page: mints a manage link and a one-click
# unsubscribe link for a sample address with the collector's `link` command (with the key
# files the server uses, which must exist: `serve` or `keygen` makes them), and fills them into
# www/subscriber.template.html.
#   scripts/subscriber-page.sh COLLECTOR OUT_HTML ORIGIN DATABASE SUBJECT_KEY LINK_KEY
set -euo pipefail
[ "$#" -eq 6 ] || { echo "usage: $0 COLLECTOR OUT_HTML ORIGIN DATABASE SUBJECT_KEY LINK_KEY" >&2; exit 2; }
collector=$1 out=$2 origin=$3 database=$4 subject_key=$5 link_key=$6
root=$(cd "$(dirname "$0")/.." && pwd)
subscriber=jane.doe@example.com
link=$("$collector" link --email "$subscriber" --site pci.qualys.com \
  --page "$origin/sites/pci.qualys.com.html" --public-url "$origin" --allowed-origins "$origin" \
  --database "$database" --subject-key "$subject_key" --link-key "$link_key")
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$link" "$1"; }
# Assignments, not substitutions inside sed's arguments: a failing field stops the script.
manage_url=$(field manage_url)
unsubscribe_url=$(field unsubscribe_url)
expires_at=$(field expires_at)
unsubscribe_expires_at=$(field unsubscribe_expires_at)
# Tokens are base64url and dots, URLs carry no '|': safe in these substitutions.
sed -e "s|__SUBSCRIBER__|$subscriber|g" -e "s|__MANAGE_URL__|$manage_url|g" \
  -e "s|__UNSUBSCRIBE_URL__|$unsubscribe_url|g" -e "s|__EXPIRES__|$expires_at|g" \
  -e "s|__UNSUBSCRIBE_EXPIRES__|$unsubscribe_expires_at|g" \
  "$root/www/subscriber.template.html" > "$out"
