module.exports = {
  paddleApiKey: process.env.PADDLE_API_KEY || 'REPLACE_ME',
  port: 8080,
};
