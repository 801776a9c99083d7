module.exports = {
  telnyxApiKey: process.env.TELNYX_API_KEY || '${TELNYX_API_KEY}',
  port: 8080,
};
