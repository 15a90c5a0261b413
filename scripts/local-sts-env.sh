# Sourced by scripts/e2e.sh and scripts/bench-host.sh: a scratch environment holding nothing of the
# developer's own AWS setup, and the embedded local STS started in it. Needs SCRATCH set and a
# `pgids` array (process groups the caller's trap stops). Sets LOCALSTS (the local STS's first
# stdout line), STS_ENDPOINT, STS_REGION, STS_ROLE_ARN, STS_ACCOUNT and exports the demo user's keys.

# Everything started after this gets the scratch HOME/TMPDIR and no AWS config but the demo keys.
isolate_aws_env() {
  export HOME=$SCRATCH/home TMPDIR=$SCRATCH/tmp
  export AWS_CONFIG_FILE=$SCRATCH/aws-config AWS_SHARED_CREDENTIALS_FILE=$SCRATCH/aws-credentials
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_ENDPOINT_URL_STS || true
}

# The embedded local STS: its first stdout line is JSON with the endpoint and the demo identity.
# LOCALSTS_BIN: the awsflow-sts binary to run it with (default bin/awsflow-sts).
start_local_sts() {
  setsid "${LOCALSTS_BIN:-bin/awsflow-sts}" localsts --addr 127.0.0.1:0 >"$SCRATCH/localsts.out" 2>"$SCRATCH/localsts.err" &
  pgids+=($!)
  for _ in $(seq 100); do [ -s "$SCRATCH/localsts.out" ] && break; sleep 0.1; done
  LOCALSTS=$(head -1 "$SCRATCH/localsts.out")
  if [ -z "$LOCALSTS" ]; then
    echo "the local STS did not start:" >&2; cat "$SCRATCH/localsts.err" >&2; return 1
  fi
  STS_ENDPOINT=$(local_sts_field endpoint) STS_REGION=$(local_sts_field region)
  STS_ROLE_ARN=$(local_sts_field roleArn) STS_ACCOUNT=$(local_sts_field account)
  export AWS_ACCESS_KEY_ID=$(local_sts_field accessKeyId) AWS_SECRET_ACCESS_KEY=$(local_sts_field secretAccessKey)
}

local_sts_field() { node -e 'process.stdout.write(String(JSON.parse(process.argv[1])[process.argv[2]]))' "$LOCALSTS" "$1"; }

# Waits up to 30 s for an HTTP server on 127.0.0.1:$1 to answer.
wait_for_http() {
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
