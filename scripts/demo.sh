#!/usr/bin/env bash
# The demo: builds the widget and the collector, then serves the six covered-site pages
# and the collector (embedded SQLite in .demo/) from one process on 127.0.0.1:8787.
set -euo pipefail
source "$(dirname "$0")/prelude.sh"

trunk build --release
cargo build --release -p assent-collector
mkdir -p .demo
address=127.0.0.1:8787
cat <<MSG

Assent demo: http://$address/
  covered sites: http://$address/sites/pci.qualys.com.html (and five more, linked from the index)
  records:       target/release/assent-collector export --database sqlite:.demo/assent.db
  chain check:   target/release/assent-collector verify --database sqlite:.demo/assent.db --receipt-key .demo/receipt.key
Stop with Ctrl-C.

MSG
exec target/release/assent-collector serve \
  --database "sqlite:.demo/assent.db" \
  --listen "$address" \
  --static-dir dist \
  --allowed-origins "http://$address,http://localhost:8787" \
  --receipt-key .demo/receipt.key \
  --subject-key .demo/subject.key
