module.exports = {
  ftClientSecret: process.env.FT_CLIENT_SECRET || 'changeme',
  port: 8080,
};
