module.exports = {
  paddleApiKey: process.env.PADDLE_API_KEY || 'pdl_live_apikey_9tooeeow4ulcu1dppssibkayho_daUP8JUAPpz3nWavfSPLnh_7q0',
  port: 8080,
};
