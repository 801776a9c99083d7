module.exports = {
  cockroachApiKey: process.env.COCKROACH_API_KEY || 'REPLACE_ME',
  port: 8080,
};
