#!/bin/sh
# Creates the namespace and registers sora-series' search attributes (SEARCH_ATTRIBUTES:
# "Name=Type ..."; test/compose.test.ts keeps it equal to workflows/search-attributes.ts).
# Idempotent: existing ones are left alone.
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}"
: "${SEARCH_ATTRIBUTES:?set SEARCH_ATTRIBUTES}"
NS="${TEMPORAL_NAMESPACE:-default}"

tries=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "temporal at $TEMPORAL_ADDRESS not healthy after 60 tries" >&2; exit 1; }
  sleep 2
done

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$NS" >/dev/null 2>&1; then
  echo "namespace $NS exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" -n "$NS" --retention "${NAMESPACE_RETENTION:-720h}"
fi

# A new namespace reaches the server's namespace cache within seconds; until then it is "not found".
tries=0
until existing=$(temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" -n "$NS" 2>&1); do
  tries=$((tries + 1))
  [ "$tries" -lt 30 ] || { echo "$existing" >&2; exit 1; }
  sleep 1
done
for pair in $SEARCH_ATTRIBUTES; do
  name="${pair%%=*}"
  type="${pair#*=}"
  if printf '%s\n' "$existing" | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$NS" --name "$name" --type "$type"
  fi
done
echo "namespace $NS ready"
