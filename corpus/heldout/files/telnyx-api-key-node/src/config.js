module.exports = {
  telnyxApiKey: process.env.TELNYX_API_KEY || 'KEY9gd9eKjXwm2ftSzK9wUAMoV34Tfc8ujpurI90qHaYsruE5vbt0qAZ2v',
  port: 8080,
};
