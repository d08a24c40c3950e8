#!/usr/bin/env bash
# The demo: builds the widget and the collector, then serves the six covered-site pages
# and the collector (embedded SQLite in .demo/) from one process on 127.0.0.1:8787. It
# serves a copy of dist/ of its own (.demo/www), which a test run's build of dist/ leaves
# alone while it runs.
set -euo pipefail
source "$(dirname "$0")/prelude.sh"

mkdir -p .demo
rm -rf .demo/www.next
build_widget cp -a dist .demo/www.next
rm -rf .demo/www
mv .demo/www.next .demo/www
cargo build --profile server -p assent-collector
address=127.0.0.1:8787
collector="${CARGO_TARGET_DIR:-target}/server/assent-collector"
keys=(--subject-key .demo/subject.key --link-key .demo/link.key)
# The server's keys, made once (`link` signs with them and never makes its own).
for key in subject link; do
  [ -e ".demo/$key.key" ] || "$collector" keygen "--$key-key" ".demo/$key.key"
done

# A sample subscriber's manage and unsubscribe links, as a mailer would mint them.
scripts/subscriber-page.sh "$collector" .demo/www/subscriber.html "http://$address" \
  "sqlite:.demo/assent.db" .demo/subject.key .demo/link.key
cat <<MSG

Assent demo: http://$address/
  covered sites: http://$address/sites/pci.qualys.com.html (and five more, linked from the index)
  subscriber:    http://$address/subscriber.html (a sample e-mail's manage and unsubscribe links)
  records:       $collector export --database sqlite:.demo/assent.db
  chain check:   $collector verify --database sqlite:.demo/assent.db --receipt-key .demo/receipt.key
Stop with Ctrl-C.

MSG
exec "$collector" serve \
  --database "sqlite:.demo/assent.db" \
  --listen "$address" \
  --public-url "http://$address" \
  --static-dir .demo/www \
  --allowed-origins "http://$address,http://localhost:8787" \
  --receipt-key .demo/receipt.key \
  "${keys[@]}"
