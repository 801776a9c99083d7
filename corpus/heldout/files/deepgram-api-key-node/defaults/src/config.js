module.exports = {
  deepgramApiKey: process.env.DEEPGRAM_API_KEY || 'f1a2af71-c6c9-4b68-bbd7-c905c3af30d2',
  port: 8080,
};
