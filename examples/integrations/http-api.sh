#!/bin/sh
# Send a command to a partnership through Temporal's HTTP API with curl (no Temporal SDK).
#
#   examples/integrations/http-api.sh signal partnership-mianyang-cupertino record_meeting examples/record_meeting.json
#   examples/integrations/http-api.sh update partnership-mianyang-cupertino draft_memorandum examples/draft_memorandum.json
#   examples/integrations/http-api.sh query  partnership-mianyang-cupertino status
#
# The payload is json/plain, base64-encoded. A payload without a request_id is given a new one,
# printed on stderr ("request_id ..."); put it in the file to resend it safely (Amity applies
# a request_id once). Temporal's own ids (the signal's requestId, the update's updateId) are
# that request_id plus a hash of the command and payload: Temporal drops an exact repeat, and
# the same request_id on other data reaches Amity, which refuses it.
# Environment: TEMPORAL_HTTP (http://localhost:7243; the dev server needs --http-port 7243),
#              TEMPORAL_NAMESPACE (default).
set -eu

usage() {
    echo "usage: $0 signal|update|query WORKFLOW_ID NAME [FILE.json]" >&2
    exit 2
}
[ $# -ge 3 ] || usage
action=$1 workflow_id=$2 name=$3 file=${4:-}
base="${TEMPORAL_HTTP:-http://localhost:7243}/api/v1/namespaces/${TEMPORAL_NAMESPACE:-default}/workflows/$workflow_id"

encoding=$(printf 'json/plain' | base64 | tr -d '\n')
json='{}'
[ -z "$file" ] || json=$(cat "$file")
if [ "$action" != query ]; then
    # the payload's request_id, if any (good enough for one-key-per-line JSON)
    request_id=$(printf '%s\n' "$json" | sed -n 's/.*"request_id": *"\([^"]*\)".*/\1/p' | head -n 1)
    if [ -z "$request_id" ]; then
        request_id=sh-$(cat /proc/sys/kernel/random/uuid 2>/dev/null || date +%s%N)
        # after the object's opening brace; "{}" takes no comma
        json=$(printf '%s\n' "$json" | awk -v id="$request_id" \
            '!done && sub(/\{/, "{\"request_id\": \"" id "\", ") { done = 1 } { print }' |
            sed 's/, *}$/}/')
    fi
    echo "request_id $request_id" >&2
    temporal_id=$request_id-$(printf '%s %s' "$name" "$json" | sha256sum | cut -c1-16)
fi
data=$(printf '%s' "$json" | base64 | tr -d '\n')
payloads="{\"payloads\":[{\"metadata\":{\"encoding\":\"$encoding\"},\"data\":\"$data\"}]}"

post() {
    answer=$(curl --silent --show-error --fail-with-body -X POST \
        -H 'Content-Type: application/json' --data "$2" "$1") || {
        echo "$answer" >&2
        exit 1
    }
    case $answer in
    *'"outcome":{"failure":'*) # a refused update: nothing was recorded
        echo "$answer" >&2
        exit 1
        ;;
    esac
    echo "$answer"
}

case $action in
signal)
    post "$base/signal/$name" "{\"input\":$payloads,\"identity\":\"http-api.sh\",\"requestId\":\"$temporal_id\"}"
    ;;
update)
    post "$base/update/$name" "{\"request\":{\"meta\":{\"updateId\":\"$temporal_id\",\"identity\":\"http-api.sh\"},\"input\":{\"args\":$payloads}},\"waitPolicy\":{\"lifecycleStage\":\"UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED\"}}"
    ;;
query)
    post "$base/query/$name" '{"query":{}}'
    ;;
*) usage ;;
esac
