#!/bin/sh
set -eu
export ZUPLO_API_KEY='changeme'
./bin/sync --all
