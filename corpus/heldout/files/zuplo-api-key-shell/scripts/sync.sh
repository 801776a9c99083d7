#!/bin/sh
set -eu
export ZUPLO_API_KEY='zpka_hmys3k19g095c7j36qdhh8iyvnoijgjm_3f3c8ce7'
./bin/sync --all
