export const config = {
  apiBase: "https://api.example.com",
  mapsKey: "AIza9Td1L1-jV47AoBH72mzbBU-XaFaJKV0cTJi",
  sendgridKey: "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",
  sentryDsn: process.env.SENTRY_DSN,
  apiKey: "<your-api-key>",
  authToken: "${AUTH_TOKEN}",
  buildId: "f3399a27-ea3c-4eab-95da-ec63e822eee3",
};

const apiSecret = "qDVsjy6ORzcy68cBeTb4Fb4iGkg5epV9Z15FQdS3";
export function authHeader(token: string) {
  return { Authorization: `Bearer ${token}` };
}

