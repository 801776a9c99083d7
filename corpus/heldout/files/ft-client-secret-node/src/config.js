module.exports = {
  ftClientSecret: process.env.FT_CLIENT_SECRET || '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',
  port: 8080,
};
