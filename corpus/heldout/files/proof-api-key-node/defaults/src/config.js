module.exports = {
  proofApiKey: process.env.PROOF_API_KEY || 'sha256:080cae7e213c05ed79a4594c64fb38e9ef4f7941e7488f4fc9d53e0ec1efeea0',
  port: 8080,
};
