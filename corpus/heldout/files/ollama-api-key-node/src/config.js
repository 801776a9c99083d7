module.exports = {
  ollamaApiKey: process.env.OLLAMA_API_KEY || '2c40f837097622f2d30b6c5e98d08387.wadqYlG7QA1ILTvFbp3RnYQE',
  port: 8080,
};
