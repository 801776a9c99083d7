module.exports = {
  deepgramApiKey: process.env.DEEPGRAM_API_KEY || '693de4083e96beecbae22061af0bad86a749bd11',
  port: 8080,
};
