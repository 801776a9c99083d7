// Publishable identifiers: safe in client code by design.
export const posthog = "phc_klhf7HDBzXKUVPPO4Xjz8ykQsfPwTEvJvO69ubCrN50";
export const stripePk = "pk_test_0x70ArfA3amkUTECWRaIhSQ4pGrvBvUfyRUjUk3AX1DTQHeRwta5txwC6DcVduWrFWRM9wTwOWbyhYsKhzRSGxy6CpPWTwzCIeo";
export const mapbox = "pk.eyJMZrGaPqKPQfyFlpoXAjtqqIZ4haBfkUd5jt7sLdbWs_aY9BoFOHPBzfz4z-7.fzq26i5oRMtN-yEfs01UKg";
// A Sentry DSN carries the project's client key: anyone holding it can send events.
export const sentryDsn = "https://b19e5742a63ec877116242fdd5d72240@o383795.ingest.sentry.io/42";

