#!/bin/sh
set -eu
export HUNTER_API_KEY='%HUNTER_API_KEY%'
./bin/sync --all
