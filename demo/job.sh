#!/usr/bin/env bash
# A short CI job log that leaks the demo's fake secrets in the forms real jobs leak them:
# raw, base64, URL-encoded, JSON-escaped, hex, a multi-line key printed with CRLF, plus
# credentials nobody registered (a GitLab token, a URL password, a private_token parameter).
# demo/run.sh exports the variables and runs this script under `radar mask`.
set -euo pipefail

step() { printf '\033[32;1m$ %s\033[0m\n' "$*"; }
urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

printf '\033[0KRunning with gitlab-runner 17.5.1 (8a4b6ea2)\n'
printf '  on shared-docker-runner-3 xY7kP2qA, system ID: s_4c1e2f90a7b3\n'
printf '\033[36;1mPreparing the "docker" executor\033[0;m\n'
printf 'Using Docker executor with image python:3.11-slim ...\n'
printf 'Fetching changes with git depth set to 20...\n'
printf 'Checking out 1f0c9e2a as detached HEAD (ref is main)...\n'

step 'pip install -r requirements.txt'
printf 'Collecting requests==2.32.3\n'
printf '  Downloading requests-2.32.3-py3-none-any.whl (64 kB)\n'
for pct in 12 47 83 100; do printf '\r     |%-25s| %3d%%' "$(printf '#%.0s' $(seq 1 $((pct / 4))))" "$pct"; done
printf '\nSuccessfully installed certifi-2024.8.30 idna-3.10 requests-2.32.3 urllib3-2.2.3\n'

step 'echo "Connecting to postgres://app:$DB_PASSWORD@db.internal:5432/app"'
echo "Connecting to postgres://app:$DB_PASSWORD@db.internal:5432/app"

step './manage.py check-db --url "$DATABASE_URL"'
echo "INFO  using DATABASE_URL=postgresql://app:$(urlencode "$DB_PASSWORD")@db.internal:5432/app?sslmode=require"

step 'python -c "print(json.dumps(settings))"'
python3 -c 'import json, os; print(json.dumps({"db": {"user": "app", "password": os.environ["DB_PASSWORD"]}, "stripe_key": os.environ["STRIPE_API_KEY"]}))'

step 'docker login -u ci-bot --password-stdin registry.example.com'
echo "DEBUG Authorization: Basic $(printf '%s' "ci-bot:$REGISTRY_PASSWORD" | base64)"
echo "WARNING! Your password will be stored unencrypted in /root/.docker/config.json."
step 'echo "$REGISTRY_PASSWORD" | base64'
echo "$REGISTRY_PASSWORD" | base64

step 'openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" payload.json'
echo "signing key (hex): $(printf '%s' "$WEBHOOK_SECRET" | od -An -tx1 | tr -d ' \n')"

step 'cat "$SSH_PRIVATE_KEY_FILE"   # oops: a deploy key, printed with CRLF line ends'
printf '%s\n' "$SSH_PRIVATE_KEY" | sed 's/$/\r/'

step 'git push https://deployer:Demo-unregistered-pw-7Hq2@gitlab.example.com/group/app.git'
echo "remote: GitLab: push accepted for deployer"
step 'curl "https://gitlab.example.com/api/v4/projects/42/jobs?private_token=demoFAKEq8Lr2Vx9Tm4K&scope=success"'
echo '[{"id": 1207, "status": "success"}]'
step 'echo "token used by the release tool: glpat-FAKEdemo9xK2mQ7vR4tLw"'
echo "token used by the release tool: glpat-FAKEdemo9xK2mQ7vR4tLw"

printf '\033[32;1mJob succeeded\033[0;m\n'
