#!/usr/bin/env bash
# `make demo`: runs demo/job.sh under `radar mask` with fake secrets in the environment.
# radar finds them by their names (*_PASSWORD, *_API_KEY, *_SECRET, *_PRIVATE_KEY), as it would
# in a CI job; no option names them.
set -euo pipefail
cd "$(dirname "$0")/.."

# Fake values, random-looking on purpose: masking must not depend on a secret looking like one.
export DB_PASSWORD='fake+Pg7/qL"x2@Vr9'
export REGISTRY_PASSWORD='fakeRg9mT4vQ2xLs8Kp'
export STRIPE_API_KEY='sk_test_FAKE51Hx9Qm2Lp7Vt4RkZ'
export WEBHOOK_SECRET='fake-whsec-3Nf8Ku1Pd6Yb'
export SSH_PRIVATE_KEY='-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABFAKEFAKEdemo1Qx7
Lm2Vp9Rk4Tz8Wn3Hb6Yc1Jd5Ge0Kf7Ms2Pu9Xa4Qo8Rv3Lt6Nw1Ey5Ci0Ub7Fh2Zj9Ds4
FAKEdemoAAAAECkT8mZq3Lx7Vr2Np5Yw9Hc4Jb1Ks6Gd0Fe8Tu3Qa7Ri2Mo5Wl9Xy4Zn1Pv6
-----END OPENSSH PRIVATE KEY-----'

printf '\033[1mradar demo\033[0m: a CI job log with fake secrets in many forms, through\n'
printf '  .venv/bin/radar mask -- bash demo/job.sh\n'
printf 'Secrets come from DB_PASSWORD, REGISTRY_PASSWORD, STRIPE_API_KEY, WEBHOOK_SECRET and\n'
printf 'SSH_PRIVATE_KEY; the GitLab token, URL password and private_token are nobody'"'"'s: masked anyway.\n\n'

exec .venv/bin/radar mask -- bash demo/job.sh
