module.exports = {
  ollamaApiKey: process.env.OLLAMA_API_KEY || '${OLLAMA_API_KEY}',
  port: 8080,
};
