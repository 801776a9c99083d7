#!/bin/sh
set -eu
export HUNTER_API_KEY='3fe6e07cd1a0418be52bca26bcba576e871977d6'
./bin/sync --all
